using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.Dns;
using Gateway.Tests.Filters.Abuse;
using Gateway.Tests.Support;
using MailKit.Net.Smtp;

namespace Gateway.Tests.EndToEnd;

/// <summary>DNS block and allow lists and URI block lists over SMTP, with the gateway asking a real DNS server on loopback.</summary>
public sealed class DnsblTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();

    /// <summary>The test clients connect from 127.0.0.1.</summary>
    private const string Client = "1.0.0.127";

    private string Yaml(string filter, string phase = "connect", string extra = "", string dns = "timeout: 500ms, retries: 0") => $"""
        dns: {"{"} servers: ["{_dns.EndPoint}"], {dns} {"}"}
        pipeline:
          {extra}
          {phase}: [{filter}]
        """;

    [Fact]
    public async Task A_listed_client_is_refused_at_rcpt_with_the_zone_in_the_reply()
    {
        _dns.A($"{Client}.bl.test", "127.0.0.2");
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: dnsbl, zones: [{ zone: bl.test }] }"));
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using var _c = c;

        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.Equal("554 5.7.1 Service unavailable; client [127.0.0.1] blocked using bl.test (dnsbl)", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        await c.CommandAsync("QUIT"); // the transaction's log line is written when the client leaves

        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=", StringComparison.Ordinal));
        Assert.Contains("refused=\"<bob@example.test> 554 5.7.1 by dnsbl\"", line);
        Assert.Contains("DNSBL_BL_TEST(1: 127.0.0.2)", line);
    }

    [Fact]
    public async Task Without_delay_reject_the_refusal_replaces_the_greeting_and_the_connection_closes()
    {
        _dns.A($"{Client}.bl.test", "127.0.0.2");
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: dnsbl, zones: [{ zone: bl.test }] }", extra: "delay_reject: false"));
        var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using var _c = c;

        Assert.Equal("554 5.7.1 Service unavailable; client [127.0.0.1] blocked using bl.test (dnsbl)", greeting);
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task An_allow_listed_client_passes_with_its_dnswl_symbol()
    {
        _dns.A($"{Client}.bl.test", "127.0.0.2").A($"{Client}.wl.test", "127.0.10.3");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            Yaml("{ type: dnsbl, zones: [{ zone: bl.test, weight: 2 }, { zone: wl.test, type: allow, weight: -2 }], threshold: 2 }"), upstream);

        await Mail.SendAsync(gateway.Port, Mail.Message());

        Assert.Single(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=", StringComparison.Ordinal));
        Assert.Contains("DNSWL_WL_TEST(-2: 127.0.10.3)", line);
        Assert.Contains("outcome=delivered", line);
    }

    [Fact]
    public async Task Answers_outside_the_return_code_filter_do_not_refuse()
    {
        _dns.A($"{Client}.bl.test", "127.0.0.20");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            Yaml("{ type: dnsbl, zones: [{ zone: bl.test, codes: [\"127.0.0.2-127.0.0.11\"] }] }"), upstream);

        await Mail.SendAsync(gateway.Port, Mail.Message());

        Assert.Single(upstream.Messages);
    }

    [Fact]
    public async Task A_servfail_or_a_timeout_skips_the_list_with_a_log_line_and_never_refuses()
    {
        _dns.ServFail($"{Client}.failing.test").Silent($"{Client}.silent.test");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            Yaml("{ type: dnsbl, zones: [{ zone: failing.test, weight: 5 }, { zone: silent.test, weight: 5 }] }", phase: "rcpt_to"), upstream);

        await Mail.SendAsync(gateway.Port, Mail.Message());

        Assert.Single(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=", StringComparison.Ordinal));
        Assert.Contains("DNSLIST_SKIPPED(0: failing.test skipped: DNS failure", line);
        Assert.Contains("DNSLIST_SKIPPED(0: silent.test skipped: DNS failure", line);
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("dnsbl: failing.test skipped for 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("dnsbl: silent.test skipped for 127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_zone_that_never_answers_delays_the_decision_by_its_timeout_only()
    {
        // The resolver would wait 5 s for the silent zone; the filter's timeout gives up on it after 300 ms while
        // the other zone's answer decides. Both queries went out.
        _dns.Silent($"{Client}.silent.test").A($"{Client}.bl.test", "127.0.0.2");
        await using var gateway = await GatewayHost.StartAsync(
            Yaml("{ type: dnsbl, zones: [{ zone: silent.test }, { zone: bl.test }], timeout: 300ms }", dns: "timeout: 5s, retries: 0"));
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using var _c = c;

        var clock = Stopwatch.StartNew();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.Equal("554 5.7.1 Service unavailable; client [127.0.0.1] blocked using bl.test (dnsbl)", await c.CommandAsync("RCPT TO:<bob@example.test>"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.Equal(1, _dns.QueriesFor($"{Client}.silent.test"));
        Assert.Equal(1, _dns.QueriesFor($"{Client}.bl.test"));
    }

    [Fact]
    public async Task Lookups_start_when_the_client_connects_even_for_a_decision_at_rcpt()
    {
        var dns = new GatedResolver();
        using var dir = new TempDirectory();
        var yaml = """
            server: { listen: ["127.0.0.1:0"], hostname: mx.test.example }
            relay: { domains: [example.test] }
            upstream: { directory: delivered }
            pipeline:
              rcpt_to: [{ type: dnsbl, zones: [{ zone: bl.test }] }]
            """;
        var result = ConfigLoader.Load(yaml, Path.Combine(dir.Path, "gateway.yaml"), dir.Path);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var logs = new LogCollector();
        await using var server = new GatewayServer(result.Config!, logs.Factory, dns: dns);
        await server.StartAsync();

        var (c, greeting) = await RawSmtpClient.OpenAsync(server.Endpoints[0].Port);
        await using var _c = c;
        Assert.StartsWith("220", greeting);
        // Nothing sent yet: the query is already out.
        await dns.FirstQuery.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([$"{Client}.bl.test"], dns.Asked);
        dns.Answer($"{Client}.bl.test", DnsAnswer<IPAddress>.Of([IPAddress.Parse("127.0.0.2")]));

        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("554 5.7.1 Service unavailable", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.Single(dns.Asked);
    }

    [Fact]
    public async Task A_link_to_a_listed_domain_is_refused_through_a_uribl_rule()
    {
        _dns.A("bad.test.uribl.test", "127.0.0.2");
        const string rules = """
            rules:
              - id: listed-link
                match: { uribl: { zone: uribl.test, codes: ["127.0.0.2"] } }
                action: reject
                reply: "554 5.7.1 Message refused: it links to a listed domain"
            """;
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"dns: {{ servers: [\"{_dns.EndPoint}\"], timeout: 500ms, retries: 0 }}\nrules: {{ files: [rules.yaml] }}\n",
            upstream, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "rules.yaml"), rules));

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(gateway.Port, Mail.Message(body: "Log in at https://www.bad.test/login now.\r\n")));
        await Mail.SendAsync(gateway.Port, Mail.Message(body: "See https://www.good.test/ instead.\r\n"));

        Assert.Equal(554, (int)refused.StatusCode);
        Assert.Contains("it links to a listed domain", refused.Message);
        Assert.Single(upstream.Messages);
        Assert.Equal(1, _dns.QueriesFor("bad.test.uribl.test"));
        Assert.Equal(1, _dns.QueriesFor("good.test.uribl.test"));
    }

    public void Dispose() => _dns.Dispose();
}
