using System.Net;
using System.Net.Sockets;
using Gateway.Dns;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Dns;

/// <summary>The DnsClient-backed resolver against a real DNS server on loopback.</summary>
public sealed class DnsClientResolverTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();
    private readonly FakeTimeProvider _time = new();

    private DnsClientResolver Resolver(IPEndPoint? server = null, TimeSpan? timeout = null) =>
        new(new DnsConfig([server ?? _dns.EndPoint], timeout ?? TimeSpan.FromSeconds(2), 0, 1000), _time);

    private static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact]
    public async Task Answers_each_record_type()
    {
        _dns.Txt("example.test", "v=spf1 -all").Txt("example.test", new string('k', 400))
            .A("example.test", "192.0.2.1").Aaaa("example.test", "2001:db8::1").Mx("example.test", 10, "mx.example.test")
            .Ptr(IPAddress.Parse("192.0.2.1"), "host.example.test");
        var resolver = Resolver();

        var txt = await resolver.TxtAsync("Example.Test.", Token);
        Assert.Equal(DnsStatus.Ok, txt.Status);
        Assert.Equal([new string('k', 400), "v=spf1 -all"], txt.Records.Order(StringComparer.Ordinal));
        Assert.Equal([IPAddress.Parse("192.0.2.1")], (await resolver.AAsync("example.test", Token)).Records);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], (await resolver.AaaaAsync("example.test", Token)).Records);
        Assert.Equal([new MxHost(10, "mx.example.test")], (await resolver.MxAsync("example.test", Token)).Records);
        Assert.Equal(["host.example.test"], (await resolver.PtrAsync(IPAddress.Parse("192.0.2.1"), Token)).Records);
    }

    [Fact]
    public async Task Tells_nxdomain_nodata_and_failure_apart()
    {
        _dns.A("only-a.example.test", "192.0.2.1").ServFail("broken.example.test");
        var resolver = Resolver();

        Assert.Equal(DnsStatus.NxDomain, (await resolver.TxtAsync("missing.example.test", Token)).Status);
        Assert.Equal(DnsStatus.NoData, (await resolver.TxtAsync("only-a.example.test", Token)).Status);
        var failed = await resolver.TxtAsync("broken.example.test", Token);
        Assert.Equal(DnsStatus.Failure, failed.Status);
        Assert.True(failed.IsFailure);
        Assert.False(failed.IsEmpty);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_failure_after_the_timeout()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var resolver = Resolver((IPEndPoint)silent.LocalEndPoint!, TimeSpan.FromMilliseconds(300));

        var answer = await resolver.TxtAsync("example.test", Token);

        Assert.Equal(DnsStatus.Failure, answer.Status);
        Assert.Contains("timeout", answer.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Caches_answers_for_their_ttl_and_negative_answers_for_the_soa_ttl()
    {
        _dns.Txt("cached.example.test", "v=spf1 -all", ttl: 120);
        var resolver = Resolver();

        await resolver.TxtAsync("cached.example.test", Token);
        await resolver.TxtAsync("missing.example.test", Token);
        await resolver.TxtAsync("CACHED.example.test", Token);
        await resolver.TxtAsync("missing.example.test", Token);
        Assert.Equal(1, _dns.QueriesFor("cached.example.test"));
        Assert.Equal(1, _dns.QueriesFor("missing.example.test"));

        _time.Advance(TimeSpan.FromSeconds(61)); // past the SOA's negative TTL (60 s), within the TXT's 120 s
        await resolver.TxtAsync("cached.example.test", Token);
        Assert.Equal(DnsStatus.NxDomain, (await resolver.TxtAsync("missing.example.test", Token)).Status);
        Assert.Equal(1, _dns.QueriesFor("cached.example.test"));
        Assert.Equal(2, _dns.QueriesFor("missing.example.test"));

        _time.Advance(TimeSpan.FromSeconds(60));
        await resolver.TxtAsync("cached.example.test", Token);
        Assert.Equal(2, _dns.QueriesFor("cached.example.test"));
    }

    [Fact]
    public async Task Never_caches_a_failure()
    {
        _dns.ServFail("broken.example.test");
        var resolver = Resolver();

        await resolver.TxtAsync("broken.example.test", Token);
        await resolver.TxtAsync("broken.example.test", Token);

        Assert.Equal(2, _dns.QueriesFor("broken.example.test"));
    }

    [Fact]
    public async Task A_name_that_cannot_be_sent_is_a_failure_without_a_query()
    {
        var name = new string('a', 64) + ".example.test";
        var answer = await Resolver().TxtAsync(name, Token);
        Assert.Equal(DnsStatus.Failure, answer.Status);
        Assert.Equal(0, _dns.QueriesFor(name));
    }

    public void Dispose() => _dns.Dispose();
}
