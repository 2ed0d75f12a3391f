using System.Net;
using Gateway.Dns;
using Gateway.Tests.Support;

namespace Gateway.Tests.Rules;

/// <summary>The rdns, spf, dkim, dmarc and arc matchers, through the rule engine with DNS from memory.</summary>
public sealed class AuthMatcherTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message = "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

    private Gateway.Configuration.GatewayConfig WithRules(string rules)
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "rules"));
        _dir.Write("rules/r.yaml", "rules:\n" + rules);
        return OfflineRun.Config("rules: { files: [\"rules/*.yaml\"] }\n", _dir);
    }

    private static ZoneResolver ConfirmedClient(string host = "mail.sender.test") => new ZoneResolver()
        .Add(DnsNames.ReverseName(IPAddress.Parse("192.0.2.10")), RecordType.PTR, host)
        .Add(host, RecordType.A, "192.0.2.10");

    [Fact]
    public async Task Rdns_matches_the_forward_confirmed_name()
    {
        var config = WithRules("  - { id: from-sender, match: { rdns: { glob: \"*.sender.test\" } }, score: 2 }\n");

        var report = await OfflineRun.RunAsync(config, ConfirmedClient(), Message);

        Assert.Contains(report.Rules, r => r.Rule == "from-sender" && r.Matched && r.Evidence!.Contains("mail.sender.test"));
        Assert.Contains(report.Authentication, a => a.Method == "rdns" && a.Result == "mail.sender.test");
    }

    [Fact]
    public async Task An_unconfirmed_ptr_name_is_unknown()
    {
        var dns = new ZoneResolver().Add(DnsNames.ReverseName(IPAddress.Parse("192.0.2.10")), RecordType.PTR, "liar.bank.test")
            .Add("liar.bank.test", RecordType.A, "198.51.100.1");
        var config = WithRules("  - { id: no-rdns, match: { rdns: unknown }, score: 2 }\n  - { id: bank, match: { rdns: { domain: bank.test } }, score: 5 }\n");

        var report = await OfflineRun.RunAsync(config, dns, Message);

        Assert.Contains(report.Rules, r => r.Rule == "no-rdns" && r.Matched);
        Assert.Contains(report.Rules, r => r.Rule == "bank" && !r.Matched);
    }

    [Fact]
    public async Task A_dns_failure_defers_a_refusing_rule_and_skips_a_scoring_one()
    {
        var dns = new ZoneResolver().Fail(DnsNames.ReverseName(IPAddress.Parse("192.0.2.10")), "SERVFAIL");
        var scoring = await OfflineRun.RunAsync(WithRules("  - { id: no-rdns, match: { rdns: unknown }, score: 2 }\n"), dns, Message);
        Assert.Equal("forward", scoring.Verdict);
        Assert.Equal(0, scoring.Score);

        var refusing = await OfflineRun.RunAsync(WithRules("  - { id: no-rdns, match: { rdns: unknown }, action: reject }\n"), dns, Message);
        Assert.Equal("tempfail", refusing.Verdict);
        Assert.Equal("451 4.4.3 Temporary DNS failure, try again later (rule:no-rdns)", refusing.Reply);
    }

    [Fact]
    public async Task Authentication_results_are_rule_conditions_even_without_their_filters()
    {
        var config = WithRules("""
              - { id: spf-bad, match: { spf: [fail, softfail] }, score: 3 }
              - { id: unsigned, match: { dkim: none }, score: 1 }
              - { id: dmarc-none, match: { dmarc: { result: none, domain: sender.test } }, score: 1 }
              - { id: no-arc, match: { arc: none }, score: 0.5 }
            """ + "\n");
        var dns = new ZoneResolver().Add("sender.test", RecordType.TXT, "v=spf1 ~all");

        var report = await OfflineRun.RunAsync(config, dns, Message);

        Assert.Equal(5.5, report.Score);
        Assert.Contains(report.Rules, r => r.Rule == "spf-bad" && r.Evidence == "spf=softfail (sender.test)");
        Assert.Contains(report.Headers, h => h.StartsWith("Authentication-Results: mx.test.example; spf=softfail", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_dkim_matcher_can_ask_for_a_signing_domain()
    {
        var config = WithRules("  - { id: signed-by-partner, match: { dkim: { result: pass, domain: partner.test } }, action: accept }\n");
        var report = await OfflineRun.RunAsync(config, new ZoneResolver(), Message);
        Assert.Contains(report.Rules, r => r.Rule == "signed-by-partner" && !r.Matched);
    }

    [Theory]
    [InlineData("{ spf: bogus }", "spf results are pass, fail, softfail, neutral, none, permerror, temperror, not 'bogus'")]
    [InlineData("{ arc: policy }", "arc results are pass, fail, none")]
    [InlineData("{ dkim: { domain: a.test } }", "needs 'result'")]
    [InlineData("{ dkim: { result: pass, d: a.test } }", "unknown key")]
    public void Bad_authentication_conditions_are_errors_with_their_place(string match, string error)
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "rules"));
        var file = _dir.Write("rules/r.yaml", $"rules:\n  - id: x\n    match: {match}\n    score: 1\n");
        var errors = new List<Gateway.Configuration.ConfigError>();
        Gateway.Rules.RuleLoader.Load([file], errors);
        var e = Assert.Single(errors);
        Assert.Contains(error, e.Message);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void A_dmarc_condition_cannot_run_before_the_message_exists()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "rules"));
        var file = _dir.Write("rules/r.yaml", "rules:\n  - { id: x, phase: rcpt_to, match: { dmarc: fail }, action: reject }\n");
        var errors = new List<Gateway.Configuration.ConfigError>();
        Gateway.Rules.RuleLoader.Load([file], errors);
        Assert.Contains(errors, e => e.Message.Contains("needs data from data"));
    }

    public void Dispose() => _dir.Dispose();
}
