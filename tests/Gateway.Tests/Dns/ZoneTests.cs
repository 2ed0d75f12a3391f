using System.Net;
using Gateway.Configuration;
using Gateway.Dns;
using Gateway.Tests.Support;

namespace Gateway.Tests.Dns;

public class ZoneTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_zone_tells_nxdomain_nodata_failure_and_follows_cnames()
    {
        var zone = new ZoneResolver()
            .Add("a.test", RecordType.A, "192.0.2.1")
            .Add("alias.test", RecordType.CNAME, "a.test")
            .Fail("slow.test", "timeout", RecordType.TXT)
            .Add("slow.test", RecordType.A, "192.0.2.2");

        Assert.Equal([IPAddress.Parse("192.0.2.1")], (await zone.AAsync("ALIAS.test.", None)).Records);
        Assert.Equal(DnsStatus.NoData, (await zone.TxtAsync("a.test", None)).Status);
        Assert.Equal(DnsStatus.NxDomain, (await zone.TxtAsync("b.test", None)).Status);
        Assert.Equal(DnsStatus.Failure, (await zone.TxtAsync("slow.test", None)).Status);
        Assert.Equal(DnsStatus.Ok, (await zone.AAsync("slow.test", None)).Status);
        Assert.Equal(DnsStatus.Failure, (await zone.TxtAsync(new string('x', 64) + ".test", None)).Status);
        Assert.Equal(6, zone.QueryCount);
    }

    [Theory]
    [InlineData("192.0.2.1", "1.2.0.192.in-addr.arpa")]
    [InlineData("::ffff:192.0.2.1", "1.2.0.192.in-addr.arpa")]
    [InlineData("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    public void Reverse_names(string address, string name)
    {
        Assert.Equal(name, DnsNames.ReverseName(IPAddress.Parse(address)));
    }

    [Fact]
    public async Task A_fixture_file_holds_every_record_type_and_timeouts()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("dns.yaml", """
            example.test:
              - TXT: ["v=spf1 ", "mx -all"]
              - MX: [10, mx.example.test]
              - A: 192.0.2.1
              - AAAA: "2001:db8::1"
            mx.example.test:
              - A: 192.0.2.25
            1.2.0.192.in-addr.arpa:
              - PTR: example.test.
            www.example.test:
              - CNAME: example.test
            down.example.test:
              - TIMEOUT
            """);
        var errors = new List<ConfigError>();
        var zone = ZoneFile.Load(path, errors);

        Assert.Empty(errors);
        Assert.Equal(["v=spf1 mx -all"], (await zone!.TxtAsync("example.test", None)).Records);
        Assert.Equal([new MxHost(10, "mx.example.test")], (await zone.MxAsync("example.test", None)).Records);
        Assert.Equal(["example.test"], (await zone.PtrAsync(IPAddress.Parse("192.0.2.1"), None)).Records);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], (await zone.AaaaAsync("www.example.test", None)).Records);
        Assert.Equal(DnsStatus.Failure, (await zone.AAsync("down.example.test", None)).Status);
    }

    [Fact]
    public void A_bad_fixture_is_refused_with_every_error()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("dns.yaml", "a.test:\n  - A: not-an-ip\n  - MX: 10\nb.test: oops\n");
        var errors = new List<ConfigError>();

        Assert.Null(ZoneFile.Load(path, errors));
        Assert.Equal([2, 3, 4], errors.Select(e => (int)e.Line));
    }

    [Fact]
    public async Task Reverse_dns_is_forward_confirmed()
    {
        var client = IPAddress.Parse("192.0.2.7");
        var zone = new ZoneResolver()
            .Add(DnsNames.ReverseName(client), RecordType.PTR, "fake.bank.test")
            .Add(DnsNames.ReverseName(client), RecordType.PTR, "host.isp.test")
            .Add("fake.bank.test", RecordType.A, "198.51.100.1")
            .Add("host.isp.test", RecordType.A, "192.0.2.7");

        var result = await ReverseDnsResult.LookupAsync(zone, client, None);

        Assert.Equal("host.isp.test", result.Name);
        Assert.False(result.Failed);
        Assert.Equal(3, result.Trace.Count);
        Assert.Equal("unknown", (await ReverseDnsResult.LookupAsync(new ZoneResolver(), client, None)).Display);
        Assert.True((await ReverseDnsResult.LookupAsync(new ZoneResolver().Fail(DnsNames.ReverseName(client), "timeout"), client, None)).Failed);
    }
}
