using System.Net;
using Gateway.Dns;
using Gateway.Filters.Abuse;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>The HELO checks, and the helo filter's symbols, DNS check and refusals.</summary>
public sealed class HeloTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message = "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress Local = IPAddress.Parse("198.51.100.25");

    [Theory]
    [InlineData("mail.sender.test", "", "mail.sender.test")]
    [InlineData("Mail.Sender.Test.", "", "mail.sender.test")]
    [InlineData("[192.0.2.10]", "", null)]
    [InlineData("[IPv6:2001:db8::1]", "HELO_LITERAL_MISMATCH", null)]
    [InlineData("[192.0.2.99]", "HELO_LITERAL_MISMATCH", null)]
    [InlineData("[198.51.100.25]", "HELO_OURS HELO_LITERAL_MISMATCH", null)]
    [InlineData("192.0.2.10", "HELO_BARE_IP", null)]
    [InlineData("2001:db8::1", "HELO_BARE_IP", null)]
    [InlineData("198.51.100.25", "HELO_BARE_IP HELO_OURS", null)]
    [InlineData("[banana]", "HELO_INVALID", null)]
    [InlineData("bad_name.test", "HELO_INVALID", null)]
    [InlineData("-bad.test", "HELO_INVALID", null)]
    [InlineData("a..test", "HELO_INVALID", null)]
    [InlineData("", "HELO_INVALID", null)]
    [InlineData("localhost", "HELO_NOT_FQDN", null)]
    [InlineData("1234", "HELO_NOT_FQDN", null)]
    [InlineData("MX.Example.Test", "HELO_OURS", null)]
    [InlineData("example.test", "HELO_OURS", null)]
    [InlineData("bücher.test", "", "xn--bcher-kva.test")]
    public void Names_are_checked_as_rfc_5321_says(string helo, string expected, string? resolve)
    {
        var (findings, toResolve) = HeloChecks.Check(helo, Client, Local, ["mx.example.test", "example.test"], trusted: false);

        Assert.Equal(expected, string.Join(' ', findings.Select(f => f.Symbol)));
        Assert.Equal(resolve, toResolve);
    }

    [Fact]
    public void Our_own_clients_may_use_our_name()
    {
        var (findings, _) = HeloChecks.Check("mx.example.test", Client, Local, ["mx.example.test"], trusted: true);
        Assert.Empty(findings);
    }

    [Fact]
    public async Task A_name_that_does_not_exist_scores_and_one_that_fails_is_skipped()
    {
        var config = OfflineRun.Config("pipeline:\n  helo: [{ type: helo, scores: { HELO_NO_RESOLVE: 2.5 } }]\n", _dir);
        var dns = new ZoneResolver().Add("mail.sender.test", RecordType.A, "192.0.2.10").Fail("broken.sender.test", "timeout");

        var fine = await OfflineRun.RunAsync(config, dns, Message, helo: "mail.sender.test");
        var missing = await OfflineRun.RunAsync(config, dns, Message, helo: "nowhere.sender.test");
        var broken = await OfflineRun.RunAsync(config, dns, Message, helo: "broken.sender.test");

        Assert.Empty(fine.Symbols);
        Assert.Equal(["HELO_NO_RESOLVE"], missing.Symbols);
        Assert.Equal(2.5, missing.Score);
        Assert.Equal("forward", broken.Verdict);
        Assert.Equal(["HELO_SKIPPED"], broken.Symbols);
        Assert.Equal(0, broken.Score);
    }

    [Fact]
    public async Task Findings_listed_in_reject_refuse_and_the_others_score()
    {
        var config = OfflineRun.Config("pipeline:\n  delay_reject: false\n  helo: [{ type: helo, reject: [HELO_OURS] }]\n", _dir);

        var ours = await OfflineRun.RunAsync(config, new ZoneResolver(), Message, helo: "mx.test.example");
        var bare = await OfflineRun.RunAsync(config, new ZoneResolver(), Message, helo: "192.0.2.10");

        Assert.Equal("reject", ours.Verdict);
        Assert.Equal("550 5.7.1 Helo command rejected: 'mx.test.example' is our own name (helo)", ours.Reply);
        Assert.Equal("forward", bare.Verdict);
        Assert.Equal(["HELO_BARE_IP"], bare.Symbols);
        Assert.Equal(2, bare.Score);
    }

    [Fact]
    public void Unknown_symbols_in_scores_or_reject_are_errors()
    {
        var result = Gateway.Configuration.ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }\npipeline:\n  helo: [{ type: helo, reject: [HELO_TYPO], scores: { HELO_OTHER: 1 } }]\n", "gateway.yaml", _dir.Path);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains("not 'HELO_TYPO'", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.ToString().Contains("HELO_OTHER", StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
