using System.Net;
using Gateway.Authentication.Spf;
using Gateway.Dns;

namespace Gateway.Tests.Authentication.Spf;

public sealed class SpfCheckerTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");

    private static SpfChecker Checker(ZoneResolver zone) => new(zone, new SpfOptions
    {
        ReceivingHost = "mx.receiver.example",
        DefaultExplanation = "not allowed: %{i}",
        TimeProvider = new FixedTime(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero)),
    });

    [Fact]
    public async Task A_dns_failure_of_the_record_lookup_is_a_temperror_never_none()
    {
        var zone = new ZoneResolver().Fail("example.com", "SERVFAIL");
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", "mail.example.com", CancellationToken.None);
        Assert.Equal(SpfResult.TempError, outcome.Result);
        Assert.Contains("SERVFAIL", outcome.Problem);
    }

    [Fact]
    public async Task A_dns_failure_of_a_mechanism_lookup_is_a_temperror_never_pass()
    {
        var zone = new ZoneResolver()
            .Add("example.com", RecordType.TXT, "v=spf1 a:broken.example.com +all")
            .Fail("broken.example.com", "timeout", RecordType.A);
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", null, CancellationToken.None);
        Assert.Equal(SpfResult.TempError, outcome.Result);
    }

    [Fact]
    public async Task Reports_the_matching_mechanism_the_counts_and_a_trace_line_per_query()
    {
        var zone = new ZoneResolver()
            .Add("example.com", RecordType.TXT, "v=spf1 a:gone.example.com mx ip4:192.0.2.0/24 -all")
            .Add("example.com", RecordType.MX, new MxHost(20, "mx2.example.com"))
            .Add("example.com", RecordType.MX, new MxHost(10, "mx1.example.com"))
            .Add("mx1.example.com", RecordType.A, "198.51.100.1")
            .Add("mx2.example.com", RecordType.A, "198.51.100.2");
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", "helo.example.org", CancellationToken.None);
        Assert.Equal(SpfResult.Pass, outcome.Result);
        Assert.Equal("ip4:192.0.2.0/24", outcome.Mechanism);
        Assert.Equal(("mailfrom", "example.com", "user@example.com"), (outcome.Identity, outcome.Domain, outcome.Sender));
        Assert.Equal((2, 1), (outcome.Lookups, outcome.VoidLookups));
        Assert.Equal(
        [
            "TXT example.com -> v=spf1 a:gone.example.com mx ip4:192.0.2.0/24 -all",
            "A gone.example.com -> NxDomain",
            "MX example.com -> 20 mx2.example.com | 10 mx1.example.com",
            "A mx1.example.com -> 198.51.100.1",
            "A mx2.example.com -> 198.51.100.2",
        ], outcome.Trace);
        Assert.Null(outcome.Explanation);
    }

    [Fact]
    public async Task A_fail_carries_the_expanded_explanation()
    {
        var zone = new ZoneResolver()
            .Add("example.com", RecordType.TXT, "v=spf1 -all exp=why.%{d}")
            .Add("why.example.com", RecordType.TXT, "%{c} may not send for %{o} (%{r}, %{t})");
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", null, CancellationToken.None);
        Assert.Equal(SpfResult.Fail, outcome.Result);
        Assert.Equal("-all", outcome.Mechanism);
        Assert.Equal("192.0.2.10 may not send for example.com (mx.receiver.example, 1704164645)", outcome.Explanation);
    }

    [Fact]
    public async Task A_fail_without_exp_gets_the_default_explanation()
    {
        var zone = new ZoneResolver().Add("example.com", RecordType.TXT, "v=spf1 -all");
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", null, CancellationToken.None);
        Assert.Equal("not allowed: 192.0.2.10", outcome.Explanation);
    }

    [Fact]
    public async Task An_ipv4_mapped_client_is_an_ipv4_client()
    {
        var zone = new ZoneResolver().Add("example.com", RecordType.TXT, "v=spf1 ip4:192.0.2.10 -all");
        var mapped = IPAddress.Parse("::ffff:192.0.2.10");
        var outcome = await Checker(zone).CheckAsync(mapped, "user@example.com", null, CancellationToken.None);
        Assert.Equal(SpfResult.Pass, outcome.Result);
    }

    [Fact]
    public async Task Checks_the_helo_identity_as_postmaster_at_helo()
    {
        var zone = new ZoneResolver().Add("mail.example.com", RecordType.TXT, "v=spf1 ip4:192.0.2.10 -all");
        var outcome = await Checker(zone).CheckHeloAsync(Client, "mail.example.com", CancellationToken.None);
        Assert.Equal((SpfResult.Pass, "helo", "postmaster@mail.example.com"), (outcome.Result, outcome.Identity, outcome.Sender));
    }

    [Fact]
    public async Task The_null_sender_is_checked_as_postmaster_at_helo()
    {
        var zone = new ZoneResolver().Add("mail.example.com", RecordType.TXT, "v=spf1 -all");
        var outcome = await Checker(zone).CheckAsync(Client, "", "mail.example.com", CancellationToken.None);
        Assert.Equal((SpfResult.Fail, "mail.example.com", "postmaster@mail.example.com"), (outcome.Result, outcome.Domain, outcome.Sender));
    }

    [Theory]
    [InlineData("user@localhost")]
    [InlineData("user@[192.0.2.1]")]
    [InlineData("user@a..example.com")]
    [InlineData("user@")]
    public async Task A_domain_that_is_no_fully_qualified_name_gives_none_without_a_query(string mailFrom)
    {
        var zone = new ZoneResolver();
        var outcome = await Checker(zone).CheckAsync(Client, mailFrom, null, CancellationToken.None);
        Assert.Equal(SpfResult.None, outcome.Result);
        Assert.Equal(0, zone.QueryCount);
    }

    [Fact]
    public async Task The_eleventh_dns_term_is_a_permerror()
    {
        var zone = new ZoneResolver()
            .Add("example.com", RecordType.TXT, "v=spf1 " + string.Join(' ', Enumerable.Repeat("a", 11)) + " +all")
            .Add("example.com", RecordType.A, "198.51.100.1");
        var outcome = await Checker(zone).CheckAsync(Client, "user@example.com", null, CancellationToken.None);
        Assert.Equal((SpfResult.PermError, 11), (outcome.Result, outcome.Lookups));
        Assert.Contains("4.6.4", outcome.Problem);
    }

    [Fact]
    public async Task Cancellation_stops_the_check()
    {
        var zone = new ZoneResolver().Add("example.com", RecordType.TXT, "v=spf1 -all");
        var resolver = new CancellingResolver(zone);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new SpfChecker(resolver, new SpfOptions()).CheckAsync(Client, "user@example.com", null, cancellation.Token));
    }

    private sealed class CancellingResolver(IDnsResolver inner) : IDnsResolver
    {
        public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            return inner.TxtAsync(name, ct);
        }

        public ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken ct) => inner.AAsync(name, ct);

        public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken ct) => inner.AaaaAsync(name, ct);

        public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken ct) => inner.MxAsync(name, ct);

        public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken ct) => inner.PtrAsync(address, ct);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
