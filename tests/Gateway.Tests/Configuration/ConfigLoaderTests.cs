using Gateway.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.Configuration;

public class ConfigLoaderTests
{
    private static ConfigResult Load(string yaml) => ConfigLoader.Load(yaml, "t.yaml", Path.GetTempPath());

    private const string Minimal = """
        relay:
          domains: [example.test]
        upstream:
          hosts: ["127.0.0.1:2526"]
        """;

    [Fact]
    public void The_shipped_gateway_yaml_is_valid()
    {
        var root = RepoRoot.Find();
        var result = ConfigLoader.LoadFile(Path.Combine(root, "gateway.yaml"));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(Path.Combine(root, "delivered"), result.Config!.Upstream.Directory);
    }

    [Fact]
    public void Reads_every_documented_key_with_readable_units()
    {
        var result = Load("""
            server:
              listen: ["0.0.0.0:25", "[::1]:2525"]
              hostname: MX.Example.Test
              proxy_protocol: { trusted: ["10.0.0.0/8", "192.0.2.1"] }
              drain_timeout: 45s
            limits:
              max_message_size: 10MB
              max_recipients: 50
              max_connections: 300
              max_connections_per_ip: 5
              command_timeout: 2m
              data_timeout: 90s
              session_timeout: 1h
              max_errors: 4
            relay:
              domains: [Example.Test, other.test]
              networks: ["192.0.2.0/24"]
            upstream:
              hosts: ["mail.example.test:25", "[::1]:2526"]
              tls: required
              timeout: 30s
              verify_certificate: true
              pool_size: 4
            policy:
              bare_line_endings: normalize
            logging:
              format: json
              level: warning
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var c = result.Config!;
        Assert.Equal(2, c.Server.Listen.Count);
        Assert.Equal(25, c.Server.Listen[0].Port);
        Assert.Equal(2, c.Server.ProxyTrusted.Count);
        Assert.Equal(TimeSpan.FromSeconds(45), c.Server.DrainTimeout);
        Assert.Equal(10L * 1024 * 1024, c.Limits.MaxMessageSize);
        Assert.Equal(TimeSpan.FromSeconds(90), c.Limits.DataTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), c.Limits.CommandTimeout);
        Assert.Equal(["example.test", "other.test"], c.Relay.Domains);
        Assert.Equal(new HostPort("mail.example.test", 25), c.Upstream.Hosts[0]);
        Assert.Equal(new HostPort("::1", 2526), c.Upstream.Hosts[1]);
        Assert.Equal(UpstreamTls.Required, c.Upstream.Tls);
        Assert.Equal(BareLineEndings.Normalize, c.Policy.BareLineEndings);
        Assert.Equal(LogFormat.Json, c.Logging.Format);
    }

    [Fact]
    public void Reports_every_error_at_once_with_line_and_column()
    {
        var result = Load("""
            server:
              listen: ["not-an-endpoint"]
              hostnme: mx.example.test
            limits:
              max_message_size: 25 parsecs
              command_timeout: forever
            relay:
              domains: [example.test]
            upstream:
              hosts: ["127.0.0.1:2526"]
              tls: sometimes
            """);
        Assert.False(result.IsValid);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("t.yaml:2:12: error:", StringComparison.Ordinal) && e.Contains("not-an-endpoint"));
        Assert.Contains(errors, e => e.StartsWith("t.yaml:3:3: error: unknown key 'server.hostnme'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("t.yaml:5:21:", StringComparison.Ordinal) && e.Contains("size"));
        Assert.Contains(errors, e => e.StartsWith("t.yaml:6:20:", StringComparison.Ordinal) && e.Contains("duration"));
        Assert.Contains(errors, e => e.StartsWith("t.yaml:11:8:", StringComparison.Ordinal) && e.Contains("none | opportunistic | required"));
    }

    [Fact]
    public void Unknown_top_level_sections_are_errors()
    {
        var result = Load(Minimal + "\nfilters: {}\n");
        Assert.Contains(result.Errors, e => e.Message.StartsWith("unknown key 'filters'", StringComparison.Ordinal) && e.Line == 5);
    }

    [Fact]
    public void Duplicate_keys_are_errors_with_a_position()
    {
        var result = Load(Minimal + "\nrelay:\n  domains: [x.test]\n");
        var error = Assert.Single(result.Errors);
        Assert.Contains("uplicate", error.Message);
        Assert.True(error.Line > 0);
    }

    [Theory]
    [InlineData(null, UpstreamRecipients.Realtime)]
    [InlineData("realtime", UpstreamRecipients.Realtime)]
    [InlineData("at_end_of_data", UpstreamRecipients.AtEndOfData)]
    public void Upstream_recipients_is_realtime_unless_told(string? value, UpstreamRecipients expected)
    {
        var result = Load($"upstream:\n  hosts: [\"127.0.0.1:2526\"]\n{(value is null ? "" : $"  recipients: {value}\n")}relay:\n  domains: [x.test]\n");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.Config!.Upstream.Recipients);
    }

    [Fact]
    public void Upstream_recipients_names_its_choices()
    {
        var result = Load("upstream:\n  hosts: [\"127.0.0.1:2526\"]\n  recipients: at_end\nrelay:\n  domains: [x.test]\n");
        var error = Assert.Single(result.Errors);
        Assert.Equal("'upstream.recipients' must be realtime | at_end_of_data, not 'at_end'", error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Upstream_needs_hosts_or_directory_but_not_both()
    {
        Assert.Contains(Load("relay: { domains: [a.test] }\nupstream: { tls: none }").Errors, e => e.Message.Contains("needs 'hosts'"));
        Assert.Contains(Load("relay: { domains: [a.test] }\nupstream: { hosts: [\"h.test:25\"], directory: out }").Errors, e => e.Message.Contains("not both"));
    }

    [Fact]
    public void Refuses_a_configuration_that_would_refuse_every_recipient()
    {
        var result = Load("upstream: { directory: out }");
        Assert.Contains(result.Errors, e => e.Message.Contains("relay.domains"));
    }

    [Fact]
    public void Missing_tls_files_are_errors()
    {
        var result = Load(Minimal + "\nserver:\n  tls: { certificate: nope.pem, key: nope.key }\n");
        Assert.Equal(2, result.Errors.Count(e => e.Message.Contains("file not found")));
    }

    [Fact]
    public void Invalid_yaml_is_reported_with_its_position()
    {
        var result = Load("relay:\n  domains: [example.test\nupstream: x");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("invalid YAML", error.Message);
        Assert.True(error.Line >= 2);
    }

    [Theory]
    [InlineData("25MB", 25L * 1024 * 1024)]
    [InlineData("512KB", 512L * 1024)]
    [InlineData("1048576", 1048576)]
    [InlineData("1gb", 1024L * 1024 * 1024)]
    public void Parses_sizes(string text, long bytes)
    {
        Assert.True(Units.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("5m", 300)]
    [InlineData("30s", 30)]
    [InlineData("1h", 3600)]
    public void Parses_durations(string text, int seconds)
    {
        Assert.True(Units.TryParseDuration(text, out var parsed));
        Assert.Equal(TimeSpan.FromSeconds(seconds), parsed);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("m")]
    [InlineData("-1s")]
    [InlineData("5 minutes")]
    public void Refuses_durations_without_a_unit_or_number(string text) => Assert.False(Units.TryParseDuration(text, out _));

    [Fact]
    public void Pipeline_filters_are_checked_when_loaded()
    {
        var result = Load(Minimal + """

            pipeline:
              connect:
                - { type: client_list, file: no-such-list.txt }
                - { type: no_such_filter }
              helo:
                - { type: max_received }
                - { type: client_list, name: max_received, file: no-such-list.txt, colour: red }
              rcpt: []
            """);
        var errors = result.Errors.Select(e => $"{e.Line}: {e.Message}").ToList();
        Assert.Contains(errors, e => e.StartsWith("7: cannot read list", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("8: unknown filter type 'no_such_filter'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("10: filter type 'max_received' cannot run at helo; it runs at data", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("11: filter name 'max_received' is used twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("11: unknown key 'pipeline.helo[1].colour'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("12: unknown key 'pipeline.rcpt'", StringComparison.Ordinal));
    }

    [Fact]
    public void Thresholds_must_be_numbers_in_order()
    {
        Assert.Contains(Load(Minimal + "\npolicy:\n  thresholds: { add_header: lots }\n").Errors, e => e.Message.Contains("must be a number"));
        Assert.Contains(Load(Minimal + "\npolicy:\n  thresholds: { add_header: 9, reject: 5 }\n").Errors, e => e.Message.Contains("must not be above"));
    }

    [Fact]
    public void Reads_the_dns_and_authentication_sections()
    {
        var result = Load(Minimal + """

            dns: { servers: ["192.0.2.53", "[2001:db8::53]:5353"], timeout: 2s, retries: 2, cache_entries: 500 }
            authentication: { dkim_max_signatures: 5, trusted_arc_sealers: [Lists.Example.ORG.] }
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var config = result.Config!;
        Assert.Equal(["192.0.2.53:53", "[2001:db8::53]:5353"], config.Dns.Servers.Select(s => s.ToString()));
        Assert.Equal(TimeSpan.FromSeconds(2), config.Dns.Timeout);
        Assert.Equal(2, config.Dns.Retries);
        Assert.Equal(5, config.Authentication.DkimMaxSignatures);
        Assert.Equal(["lists.example.org"], config.Authentication.TrustedArcSealers);
        Assert.Same(Gateway.Authentication.Dmarc.PublicSuffixList.Default, config.Authentication.PublicSuffixList);
    }

    [Fact]
    public void Bad_dns_and_authentication_settings_are_errors_with_their_place()
    {
        var result = Load(Minimal + """

            dns: { servers: [resolver.local], timeout: 10ms }
            authentication: { trusted_arc_sealers: ["not a domain"], public_suffix_list: missing.dat }
            """);
        Assert.Contains(result.Errors, e => e.Message.Contains("'dns.servers' entry 'resolver.local' must be an IP address"));
        Assert.Contains(result.Errors, e => e.Message.Contains("'dns.timeout' must be between 100ms and 60s"));
        Assert.Contains(result.Errors, e => e.Message.Contains("'authentication.trusted_arc_sealers' entry 'not a domain' must be a domain"));
        Assert.Contains(result.Errors, e => e.Message.Contains("'authentication.public_suffix_list': cannot use missing.dat"));
    }

    [Fact]
    public void A_dmarc_filter_that_may_quarantine_needs_a_quarantine_directory()
    {
        var result = Load(Minimal + "\npipeline:\n  data: [{ type: dmarc }]\n");
        Assert.Contains(result.Errors, e => e.Message.Contains("filter 'dmarc' may quarantine, but gateway.yaml has no 'quarantine.directory'"));
        Assert.True(Load(Minimal + "\npipeline:\n  data: [{ type: dmarc, on_quarantine: reject }]\n").IsValid);
    }

    [Fact]
    public void The_rules_marker_places_the_rule_engine_in_a_phase()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "r.yaml"), "rules:\n  - { id: big, match: { size: { min: 1 } }, score: 1 }\n");
            var text = Minimal + "\nrules: { files: [r.yaml] }\npipeline:\n  data: [{ type: max_received }, { type: rules }, { type: dkim }]\n  mail_from: [{ type: rules }]\n";
            var config = ConfigLoader.Load(text, "t.yaml", directory).Config!;
            var pipeline = Gateway.Runtime.GatewaySnapshot.Build(config, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Pipeline;
            Assert.Equal(["max_received", "rules", "dkim"], pipeline.For(Gateway.Pipeline.Phase.Data).Select(s => s.Name));
            Assert.Empty(pipeline.For(Gateway.Pipeline.Phase.MailFrom)); // no rule runs at MAIL FROM: the marker adds nothing
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Reads_the_header_limits_of_the_mime_section()
    {
        var result = Load(Minimal + "\nmime: { max_headers: 300, max_header_size: 64KB, max_header_block: 2MB }\n");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal((300, 64 * 1024, 2L * 1024 * 1024), (result.Config!.Mime.MaxHeaders, result.Config.Mime.MaxHeaderSize, result.Config.Mime.MaxHeaderBlock));
        var defaults = Load(Minimal).Config!.Mime;
        Assert.Equal((1000, 100 * 1024, 1024L * 1024), (defaults.MaxHeaders, defaults.MaxHeaderSize, defaults.MaxHeaderBlock));
        Assert.False(Load(Minimal + "\nmime: { max_headers: 0 }\n").IsValid);
    }

    [Theory]
    [InlineData("\"250 2.0.0 held\\r\\n250 2.0.0 injected\"")]   // a second reply line: the client's replies fall out of step
    [InlineData("|\n    250 2.0.0 held\n")]                       // a block scalar ends with a bare LF
    [InlineData("\"250 2.x.0 held\"")]
    public void A_quarantine_reply_is_one_clean_smtp_line(string reply)
    {
        var result = Load(Minimal + $"\nquarantine:\n  directory: q\n  reply: {reply}\n");
        if (result.IsValid)
            Assert.All(result.Config!.Quarantine.Reply.ToString(), c => Assert.True(c is >= ' ' and < (char)127, $"'{result.Config!.Quarantine.Reply}' holds a control character"));
        else
            Assert.Contains(result.Errors, e => e.Message.Contains("'quarantine.reply' must be"));
        Assert.False(result.IsValid && reply.Contains("2.x.0"), "2.x.0 is not an enhanced status code");
    }

    [Theory]
    [InlineData("10")]               // read as 0.0.0.10 by IPAddress.TryParse
    [InlineData("10/8")]             // 0.0.0.0/8, not 10.0.0.0/8
    [InlineData("192.168.1")]        // 192.168.0.1
    [InlineData("0x7f.1")]           // 127.0.0.1
    [InlineData("2130706433")]       // 127.0.0.1
    [InlineData("010.0.0.1")]        // octal to some readers (8.0.0.1), decimal to others
    [InlineData("192.0.2.10/24")]    // the host meant, or its whole /24? (Postfix refuses it too)
    [InlineData("fe80::1%eth0")]     // a zone names this machine's interface, not a client
    public void An_ambiguous_network_is_an_error_rather_than_some_other_network(string entry)
    {
        var result = Load($"relay:\n  domains: [example.test]\n  networks: [\"{entry}\"]\nupstream:\n  hosts: [\"127.0.0.1:2526\"]\n");
        Assert.False(result.IsValid, $"'{entry}' was taken as {string.Join(", ", result.Config?.Relay.Networks ?? [])}");
        Assert.Contains(result.Errors, e => e.Message.Contains($"'relay.networks' entry '{entry}'"));
    }

    [Theory]
    [InlineData("192.0.2.0/24")]
    [InlineData("192.0.2.1")]
    [InlineData("0.0.0.0/0")]
    [InlineData("2001:db8::/32")]
    [InlineData("::1")]
    [InlineData("10.0.0.0/8")]
    public void A_plain_network_is_taken(string entry) =>
        Assert.True(Load($"relay:\n  domains: [example.test]\n  networks: [\"{entry}\"]\nupstream:\n  hosts: [\"127.0.0.1:2526\"]\n").IsValid);

    [Theory]
    [InlineData("quarantine: 12, reject: 8")]        // reject is decided first: nothing would ever be quarantined
    [InlineData("quarantine: 8, reject: 8")]
    [InlineData("rewrite_subject: 12, reject: 8")]   // no message that reaches it is delivered
    public void A_threshold_that_reject_always_overtakes_is_an_error(string thresholds)
    {
        var result = Load(Minimal + $"\nquarantine: {{ directory: q }}\npolicy:\n  thresholds: {{ {thresholds} }}\n");
        Assert.Contains(result.Errors, e => e.Message.Contains("below 'reject'"));
    }

    [Theory]
    [InlineData("rules:\n  files: [\"rules/a\\0.yaml\"]\n")]
    [InlineData("quarantine:\n  directory: \"q\\0\"\n")]
    public void A_nul_character_in_a_path_is_an_error_with_its_position(string section)
    {
        var result = Load(Minimal + "\n" + section);
        var error = Assert.Single(result.Errors);
        Assert.Contains("a NUL character", error.Message);
        Assert.True(error.Line > 4, error.ToString());
    }
}
