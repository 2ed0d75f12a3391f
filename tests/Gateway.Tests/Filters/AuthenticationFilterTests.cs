using Gateway.Dns;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filters;

/// <summary>The spf, dkim and dmarc filters' verdicts, run offline through the whole pipeline with DNS from memory.</summary>
public sealed class AuthenticationFilterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message = "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

    private static ZoneResolver Dns(string spf = "v=spf1 ip4:192.0.2.0/24 -all", string? dmarc = "v=DMARC1; p=reject") =>
        dmarc is null
            ? new ZoneResolver().Add("sender.test", RecordType.TXT, spf)
            : new ZoneResolver().Add("sender.test", RecordType.TXT, spf).Add("_dmarc.sender.test", RecordType.TXT, dmarc);

    private const string AllFilters = "pipeline:\n  mail_from: [{ type: spf }]\n  data: [{ type: dkim }, { type: dmarc }]\n";

    [Fact]
    public async Task Spf_pass_aligns_and_dmarc_passes_with_every_result_in_one_header()
    {
        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), Dns(), Message);

        Assert.Equal("forward", report.Verdict);
        var header = Assert.Single(report.Headers, h => h.StartsWith("Authentication-Results:", StringComparison.Ordinal));
        Assert.Equal("Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=alice@sender.test; spf=none smtp.helo=mail.sender.test; " +
            "dkim=none; dmarc=pass header.from=sender.test policy.dmarc=reject", header);
        Assert.Contains(report.Authentication, a => a.Method == "dmarc" && a.Dns.Contains("TXT _dmarc.sender.test -> v=DMARC1; p=reject"));
    }

    [Fact]
    public async Task A_dmarc_reject_policy_failure_is_refused_with_550_5_7_1()
    {
        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), Dns(), Message, clientIp: "203.0.113.5");

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("550 5.7.1 Rejected by the DMARC policy of sender.test (dmarc)", report.Reply);
        Assert.Contains("SPF_FAIL", report.Symbols);
        Assert.Contains("DMARC_FAIL", report.Symbols);
    }

    [Fact]
    public async Task A_bounce_from_a_reject_domain_passes_dmarc_through_the_spf_of_its_helo_name()
    {
        // MAIL FROM:<> is checked as postmaster@HELO (RFC 7208 2.4), and that identity is what DMARC aligns (RFC 7489 4.1).
        var dns = Dns(spf: "v=spf1 -all").Add("mail.sender.test", RecordType.TXT, "v=spf1 ip4:192.0.2.0/24 -all");
        var bounce = "From: Mail Delivery System <mailer-daemon@sender.test>\r\nTo: bob@example.test\r\nSubject: Undelivered\r\n\r\nSorry.\r\n";

        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), dns, bounce, from: "");

        Assert.Equal("forward", report.Verdict);
        var header = Assert.Single(report.Headers, h => h.StartsWith("Authentication-Results:", StringComparison.Ordinal));
        Assert.Contains("spf=pass smtp.mailfrom=postmaster@mail.sender.test", header);
        Assert.Contains("dmarc=pass header.from=sender.test", header);
    }

    [Fact]
    public async Task A_bounce_whose_helo_name_fails_spf_is_still_refused_by_a_reject_policy()
    {
        var dns = Dns().Add("mail.sender.test", RecordType.TXT, "v=spf1 ip4:198.51.100.0/24 -all");
        var bounce = "From: Mail Delivery System <mailer-daemon@sender.test>\r\nTo: bob@example.test\r\nSubject: Undelivered\r\n\r\nSorry.\r\n";

        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), dns, bounce, from: "");

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("dmarc", report.DecidedBy);
    }

    [Fact]
    public async Task A_dmarc_quarantine_policy_failure_is_quarantined()
    {
        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), Dns(dmarc: "v=DMARC1; p=quarantine"), Message, clientIp: "203.0.113.5");

        Assert.Equal("quarantine", report.Verdict);
        Assert.Equal("dmarc", report.DecidedBy);
    }

    [Fact]
    public async Task Monitor_only_notes_what_it_would_have_done()
    {
        var config = OfflineRun.Config("pipeline:\n  data: [{ type: dmarc, on_reject: monitor }]\n", _dir);
        var report = await OfflineRun.RunAsync(config, Dns(), Message, clientIp: "203.0.113.5");

        Assert.Equal("forward", report.Verdict);
        Assert.Contains("DMARC_MONITOR", report.Symbols);
    }

    [Fact]
    public async Task A_dns_failure_defers_with_451_4_4_3_and_never_passes()
    {
        var dns = new ZoneResolver().Add("sender.test", RecordType.TXT, "v=spf1 ip4:192.0.2.0/24 -all").Fail("_dmarc.sender.test", "timeout");
        var report = await OfflineRun.RunAsync(OfflineRun.Config(AllFilters, _dir), dns, Message, clientIp: "203.0.113.5");

        Assert.Equal("tempfail", report.Verdict);
        Assert.StartsWith("451 4.4.3 DMARC check of sender.test failed temporarily", report.Reply);
    }

    [Fact]
    public async Task An_spf_temperror_with_reject_fail_defers_rather_than_refuses()
    {
        var config = OfflineRun.Config("pipeline:\n  mail_from: [{ type: spf, reject_fail: true }]\n", _dir);
        var report = await OfflineRun.RunAsync(config, new ZoneResolver().Fail("sender.test", "SERVFAIL"), Message);

        Assert.Equal("tempfail", report.Verdict);
        Assert.StartsWith("451 4.4.3 SPF check of sender.test failed temporarily", report.Reply);
    }

    [Fact]
    public async Task An_spf_fail_with_reject_fail_is_refused_at_mail_from_with_the_explanation()
    {
        var config = OfflineRun.Config("pipeline:\n  mail_from: [{ type: spf, reject_fail: true }]\n", _dir);
        var report = await OfflineRun.RunAsync(config, Dns(spf: "v=spf1 -all"), Message);

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("mail_from", report.StoppedAt);
        Assert.StartsWith("550 5.7.23 SPF check failed: 192.0.2.10 is not one of sender.test's designated mail servers", report.Reply);
    }

    [Theory]
    [InlineData("From: a@sender.test\r\nFrom: b@other.test\r\n", "multiple-from")]
    [InlineData("To: bob@example.test\r\n", "no-from")]
    [InlineData("From: a@sender.test, b@other.test\r\n", "multiple-addresses")]
    public async Task Mail_whose_author_cannot_be_told_never_passes(string headers, string problem)
    {
        var config = OfflineRun.Config("pipeline:\n  data: [{ type: dmarc }]\n", _dir);
        var report = await OfflineRun.RunAsync(config, new ZoneResolver(), headers + "Subject: x\r\n\r\nbody\r\n");

        Assert.Equal("reject", report.Verdict);
        Assert.Contains(problem, report.Reply);
    }

    [Fact]
    public async Task Scores_are_configurable_per_result()
    {
        var config = OfflineRun.Config("pipeline:\n  mail_from: [{ type: spf, helo: false, scores: { fail: 7.5 } }]\n", _dir);
        var report = await OfflineRun.RunAsync(config, Dns(spf: "v=spf1 -all"), Message);

        Assert.Equal(7.5, report.Score);
    }

    [Fact]
    public void An_unknown_result_in_scores_is_a_configuration_error()
    {
        var result = Gateway.Configuration.ConfigLoader.Load("pipeline:\n  data: [{ type: dkim, scores: { broken: 1 } }]\n", "gateway.yaml", _dir.Path);
        Assert.Contains(result.Errors, e => e.Message.Contains("unknown key 'pipeline.data[0].scores.broken'"));
    }

    public void Dispose() => _dir.Dispose();
}
