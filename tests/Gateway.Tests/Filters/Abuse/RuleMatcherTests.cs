using Gateway.Dns;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>The uribl and symbol rule matchers, through the whole pipeline offline.</summary>
public sealed class RuleMatcherTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static string Message(string body) => $"From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\n{body}\r\n";

    private Gateway.Configuration.GatewayConfig Config(string rules, string pipeline = "")
    {
        _dir.Write("rules.yaml", rules);
        return OfflineRun.Config($"rules: {{ files: [rules.yaml] }}\n{pipeline}", _dir);
    }

    private const string UriblRule = """
        rules:
          - id: listed-link
            match: { uribl: { zone: uribl.example, codes: ["127.0.0.2"] } }
            action: reject
            reply: "554 5.7.1 Message refused: it links to a listed domain"
        """;

    [Fact]
    public async Task A_link_whose_registrable_domain_is_listed_matches()
    {
        var dns = new ZoneResolver().Add("bad.co.uk.uribl.example", RecordType.A, "127.0.0.2");

        var report = await OfflineRun.RunAsync(Config(UriblRule), dns, Message("Look: https://www.shop.bad.co.uk/login and http://good.test/"));

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("554 5.7.1 Message refused: it links to a listed domain", report.Reply);
        Assert.Contains(report.Rules, r => r.Matched && r.Evidence == "link domain bad.co.uk listed in uribl.example (127.0.0.2)");
    }

    [Fact]
    public async Task Codes_outside_the_filter_and_unlisted_domains_do_not_match()
    {
        var dns = new ZoneResolver().Add("bad.test.uribl.example", RecordType.A, "127.0.0.4");

        var report = await OfflineRun.RunAsync(Config(UriblRule), dns, Message("See http://bad.test/ and http://other.test/"));

        Assert.Equal("forward", report.Verdict);
        Assert.Contains(report.Rules, r => r.Rule == "listed-link" && !r.Matched);
    }

    [Fact]
    public async Task An_ip_link_is_looked_up_reversed()
    {
        var dns = new ZoneResolver().Add("4.3.2.1.uribl.example", RecordType.A, "127.0.0.2");

        var report = await OfflineRun.RunAsync(Config(UriblRule), dns, Message("See http://1.2.3.4/x"));

        Assert.Equal("reject", report.Verdict);
    }

    [Fact]
    public async Task A_lookup_failure_defers_a_refusing_rule_and_skips_a_scoring_one()
    {
        var dns = new ZoneResolver().Fail("bad.test.uribl.example", "SERVFAIL");
        var scoring = UriblRule.Replace("action: reject\n    reply: \"554 5.7.1 Message refused: it links to a listed domain\"", "score: 5", StringComparison.Ordinal);

        var refusing = await OfflineRun.RunAsync(Config(UriblRule), dns, Message("See http://bad.test/"));
        var scored = await OfflineRun.RunAsync(Config(scoring), dns, Message("See http://bad.test/"));

        Assert.Equal("tempfail", refusing.Verdict);
        Assert.Equal("451 4.4.3 Temporary DNS failure, try again later (rule:listed-link)", refusing.Reply);
        Assert.Equal("forward", scored.Verdict);
        Assert.Equal(0, scored.Score);
    }

    [Fact]
    public async Task At_most_max_domains_distinct_domains_are_looked_up()
    {
        var counting = new CountingResolver(new ZoneResolver());
        var links = string.Join(" ", Enumerable.Range(0, 30).Select(i => $"http://www.d{i}.test/ http://mail.d{i}.test/"));
        var rules = UriblRule.Replace("codes: [\"127.0.0.2\"]", "max_domains: 5", StringComparison.Ordinal);

        var report = await OfflineRun.RunAsync(Config(rules), counting, Message(links));

        Assert.Equal("forward", report.Verdict);
        Assert.Equal(5, counting.Count);
    }

    [Fact]
    public async Task A_symbol_from_a_filter_is_visible_to_rules_of_the_same_and_later_phases()
    {
        const string rules = """
            rules:
              - id: bare-ip-helo
                match: { symbol: HELO_BARE_IP }
                phase: helo
                score: 4
              - id: any-helo-finding-at-rcpt
                match: { symbol: { glob: "HELO_*" } }
                phase: rcpt_to
                score: 1
              - id: listed
                match: { symbol: [DNSBL_BL_EXAMPLE, SPF_FAIL] }
                action: reject
            """;
        var config = Config(rules, "pipeline:\n  helo: [{ type: helo }]\n");

        var bare = await OfflineRun.RunAsync(config, new ZoneResolver(), Message("hi"), helo: "192.0.2.10");
        var fine = await OfflineRun.RunAsync(config, new ZoneResolver().Add("mail.sender.test", RecordType.A, "192.0.2.10"), Message("hi"));

        Assert.Equal(["HELO_BARE_IP", "bare-ip-helo", "any-helo-finding-at-rcpt"], bare.Symbols);
        Assert.Equal(2 + 4 + 1, bare.Score);
        Assert.Contains(bare.Rules, r => r.Rule == "bare-ip-helo" && r.Evidence!.StartsWith("symbol HELO_BARE_IP(2", StringComparison.Ordinal));
        Assert.Empty(fine.Symbols);
    }

    [Theory]
    [InlineData("uribl: {}", "needs a zone")]
    [InlineData("uribl: { zone: u.example, codes: [x] }", "'x' is not")]
    [InlineData("uribl: { zone: u.example, max_domains: 0 }", "max_domains")]
    [InlineData("symbol: []", "takes symbol names")]
    public void Matcher_errors_are_reported(string match, string expected)
    {
        _dir.Write("bad.yaml", $"rules:\n  - id: r\n    match: {{ {match} }}\n    score: 1\n");
        var result = Gateway.Configuration.ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [bad.yaml] }\n", "gateway.yaml", _dir.Path);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains(expected, StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
