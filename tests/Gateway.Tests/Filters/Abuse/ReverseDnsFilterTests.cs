using System.Net;
using Gateway.Dns;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>The rdns filter: no PTR, an unconfirmed PTR, a confirmed one, a DNS failure, and reject_missing.</summary>
public sealed class ReverseDnsFilterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message = "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");

    private static ZoneResolver Ptr(string host) => new ZoneResolver().Add(DnsNames.ReverseName(Client), RecordType.PTR, host);

    [Fact]
    public async Task Each_case_has_its_symbol_and_a_failure_is_skipped()
    {
        var config = OfflineRun.Config("pipeline:\n  connect: [{ type: rdns, scores: { RDNS_NONE: 2 } }]\n", _dir);

        var none = await OfflineRun.RunAsync(config, new ZoneResolver(), Message);
        var unconfirmed = await OfflineRun.RunAsync(config, Ptr("mail.sender.test").Add("mail.sender.test", RecordType.A, "192.0.2.99"), Message);
        var confirmed = await OfflineRun.RunAsync(config, Ptr("mail.sender.test").Add("mail.sender.test", RecordType.A, "192.0.2.10"), Message);
        var failed = await OfflineRun.RunAsync(config, new ZoneResolver().Fail(DnsNames.ReverseName(Client), "SERVFAIL"), Message);

        Assert.Equal(["RDNS_NONE"], none.Symbols);
        Assert.Equal(2, none.Score);
        Assert.Equal(["RDNS_UNCONFIRMED"], unconfirmed.Symbols);
        Assert.Equal(1, unconfirmed.Score);
        Assert.Empty(confirmed.Symbols);
        Assert.Equal(["RDNS_SKIPPED"], failed.Symbols);
        Assert.Equal("forward", failed.Verdict);
    }

    [Fact]
    public async Task Reject_missing_refuses_a_client_without_a_confirmed_name_but_not_on_a_dns_failure()
    {
        var config = OfflineRun.Config("pipeline:\n  delay_reject: false\n  connect: [{ type: rdns, reject_missing: true }]\n", _dir);

        var unconfirmed = await OfflineRun.RunAsync(config, Ptr("mail.sender.test"), Message);
        var failed = await OfflineRun.RunAsync(config, new ZoneResolver().Fail(DnsNames.ReverseName(Client), "SERVFAIL"), Message);

        Assert.Equal("reject", unconfirmed.Verdict);
        Assert.Equal("550 5.7.25 Client [192.0.2.10] has no confirmed reverse DNS name (rdns)", unconfirmed.Reply);
        Assert.Equal("forward", failed.Verdict);
    }

    public void Dispose() => _dir.Dispose();
}
