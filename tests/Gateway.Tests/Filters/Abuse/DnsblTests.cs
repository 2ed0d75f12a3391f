using System.Net;
using Gateway.Dns;
using Gateway.Filters.Abuse;
using Gateway.Pipeline;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>The dnsbl filter: return-code filters, weights and threshold, allow lists, failures, concurrency, timeouts.</summary>
public sealed class DnsblTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message = "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n";

    private static DnsblZone Zone(string zone, double weight = 1, DnsListType type = DnsListType.Block, params string[] codes) =>
        new(zone, weight, DnsblCodes.Parse(codes, out _)!, type, DnsblZone.SymbolFor(zone, type), weight);

    private SessionState Session(IDnsResolver dns, string client = "192.0.2.10") =>
        new("T", OfflineRun.Config("", _dir), new IPEndPoint(IPAddress.Parse(client), 1025), new IPEndPoint(IPAddress.Loopback, 25)) { Dns = dns };

    [Theory]
    [InlineData("192.0.2.10", "10.2.0.192.zen.example")]
    [InlineData("::ffff:192.0.2.10", "10.2.0.192.zen.example")]
    [InlineData("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example")]
    public void Query_names_are_reversed_octets_or_nibbles_under_the_zone(string client, string expected)
    {
        var address = IPAddress.Parse(client);
        Assert.Equal(expected, DnsblLookup.QueryName(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, "zen.example"));
    }

    [Fact]
    public void Codes_take_addresses_ranges_and_networks_and_the_default_leaves_out_refusals()
    {
        var codes = DnsblCodes.Parse(["127.0.0.2-127.0.0.11", "127.0.1.0/24", "127.0.2.5"], out var error)!;
        Assert.Null(error);
        Assert.True(codes.Contains(IPAddress.Parse("127.0.0.2")));
        Assert.True(codes.Contains(IPAddress.Parse("127.0.0.11")));
        Assert.False(codes.Contains(IPAddress.Parse("127.0.0.12")));
        Assert.True(codes.Contains(IPAddress.Parse("127.0.1.200")));
        Assert.True(codes.Contains(IPAddress.Parse("127.0.2.5")));
        Assert.False(codes.Contains(IPAddress.Parse("127.0.2.6")));
        Assert.True(DnsblCodes.Default.Contains(IPAddress.Parse("127.0.0.2")));
        Assert.False(DnsblCodes.Default.Contains(IPAddress.Parse("127.255.255.254")));
        Assert.False(DnsblCodes.Default.Contains(IPAddress.Parse("10.0.0.2")));
        Assert.Null(DnsblCodes.Parse(["127.0.0.2-banana"], out error));
        Assert.Contains("127.0.0.2-banana", error);
        Assert.Null(DnsblCodes.Parse(["127.0.0.9-127.0.0.2"], out _));
    }

    private static string Config(string zones, string extra = "") =>
        $"pipeline:\n  delay_reject: false\n  connect: [{{ type: dnsbl, zones: [{zones}]{extra} }}]\n";

    [Fact]
    public async Task A_listed_client_is_refused_naming_the_zone_with_its_code_as_evidence()
    {
        var dns = new ZoneResolver().Add("10.2.0.192.bl.example", RecordType.A, "127.0.0.2");
        var report = await OfflineRun.RunAsync(OfflineRun.Config(Config("{ zone: bl.example }"), _dir), dns, Message);

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("554 5.7.1 Service unavailable; client [192.0.2.10] blocked using bl.example (dnsbl)", report.Reply);
        Assert.Contains(report.Trace, t => t.Symbols.Contains("DNSBL_BL_EXAMPLE(1: 127.0.0.2)"));
    }

    [Fact]
    public async Task Weights_add_up_to_the_threshold_and_an_allow_list_pulls_the_sum_back()
    {
        var dns = new ZoneResolver()
            .Add("10.2.0.192.a.example", RecordType.A, "127.0.0.2")
            .Add("10.2.0.192.b.example", RecordType.A, "127.0.0.4")
            .Add("10.2.0.192.wl.example", RecordType.A, "127.0.10.2");
        const string zones = "{ zone: a.example, weight: 2 }, { zone: b.example, weight: 1 }";

        var blocked = await OfflineRun.RunAsync(OfflineRun.Config(Config(zones, ", threshold: 3"), _dir), dns, Message);
        Assert.Equal("reject", blocked.Verdict);
        Assert.Contains("blocked using a.example", blocked.Reply); // the heaviest list is named

        var allowed = await OfflineRun.RunAsync(OfflineRun.Config(Config(zones + ", { zone: wl.example, type: allow, weight: -2 }", ", threshold: 3"), _dir), dns, Message);
        Assert.Equal("forward", allowed.Verdict);
        Assert.Contains("DNSWL_WL_EXAMPLE", allowed.Symbols);
        Assert.Equal(1, allowed.Score); // 2 + 1 - 2: the weights are the symbols' scores

        var below = await OfflineRun.RunAsync(OfflineRun.Config(Config(zones, ", threshold: 4"), _dir), dns, Message);
        Assert.Equal("forward", below.Verdict);
        Assert.Contains("DNSBL_A_EXAMPLE", below.Symbols);
    }

    [Fact]
    public async Task Answers_outside_the_codes_are_not_listings_and_refusal_codes_are_failures()
    {
        var dns = new ZoneResolver()
            .Add("10.2.0.192.bl.example", RecordType.A, "127.0.0.20")
            .Add("10.2.0.192.busy.example", RecordType.A, "127.255.255.254");
        var config = OfflineRun.Config(Config("{ zone: bl.example, codes: [\"127.0.0.2-127.0.0.11\"] }, { zone: busy.example }"), _dir);

        var report = await OfflineRun.RunAsync(config, dns, Message);

        Assert.Equal("forward", report.Verdict);
        Assert.DoesNotContain("DNSBL_BL_EXAMPLE", report.Symbols);
        Assert.DoesNotContain("DNSBL_BUSY_EXAMPLE", report.Symbols);
        Assert.Contains(report.Trace, t => t.Symbols.Any(s => s.StartsWith("DNSLIST_SKIPPED(0: busy.example skipped: DNS failure: the list refused the query (127.255.255.254)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_dns_failure_skips_the_list_and_never_refuses()
    {
        var dns = new ZoneResolver()
            .Fail("10.2.0.192.broken.example", "SERVFAIL")
            .Add("10.2.0.192.wl.example", RecordType.A, "127.0.0.2");
        var config = OfflineRun.Config(Config("{ zone: broken.example, weight: 5 }, { zone: wl.example, type: allow }"), _dir);

        var report = await OfflineRun.RunAsync(config, dns, Message);

        Assert.Equal("forward", report.Verdict);
        Assert.Contains("DNSLIST_SKIPPED", report.Symbols);
        Assert.Contains("DNSWL_WL_EXAMPLE", report.Symbols);
    }

    [Fact]
    public async Task All_zones_are_asked_before_any_answers_and_the_decision_waits_for_all()
    {
        var dns = new GatedResolver();
        var filter = new DnsblFilter("dnsbl", [Zone("a.example"), Zone("b.example", type: DnsListType.Allow, weight: -1)], 1, true, null, TimeProvider.System);
        var session = Session(dns);

        filter.StartAtConnect(session);
        var verdict = filter.EvaluateAsync(new FilterContext(Phase.RcptTo, session), CancellationToken.None).AsTask();

        Assert.Equal(["10.2.0.192.a.example", "10.2.0.192.b.example"], dns.Asked.Order());
        dns.Answer("10.2.0.192.a.example", DnsAnswer<IPAddress>.Of([IPAddress.Parse("127.0.0.2")]));
        Assert.False(verdict.IsCompleted);
        dns.Answer("10.2.0.192.b.example", DnsAnswer<IPAddress>.Of([IPAddress.Parse("127.0.0.2")]));
        var result = await verdict;
        Assert.Equal(VerdictKind.Continue, result.Kind); // 1 - 1 is below the threshold
        Assert.Equal(["DNSBL_A_EXAMPLE", "DNSWL_B_EXAMPLE"], result.Symbols.Select(s => s.Name));
    }

    [Fact]
    public async Task The_lookups_started_at_connect_are_the_ones_a_later_phase_awaits()
    {
        var dns = new ZoneResolver().Add("10.2.0.192.bl.example", RecordType.A, "127.0.0.2");
        var counting = new CountingResolver(dns);
        var filter = new DnsblFilter("dnsbl", [Zone("bl.example")], 1, true, null, TimeProvider.System);
        var session = Session(counting);

        filter.StartAtConnect(session);
        filter.StartAtConnect(session);
        var first = await filter.EvaluateAsync(new FilterContext(Phase.RcptTo, session), CancellationToken.None);
        var second = await filter.EvaluateAsync(new FilterContext(Phase.RcptTo, session), CancellationToken.None);

        Assert.Equal(1, counting.Count);
        Assert.Equal(VerdictKind.Reject, first.Kind);
        Assert.Equal(VerdictKind.Reject, second.Kind);
    }

    [Fact]
    public async Task A_zone_that_does_not_answer_within_the_timeout_is_skipped()
    {
        var dns = new GatedResolver();
        var time = new FakeTimeProvider();
        var filter = new DnsblFilter("dnsbl", [Zone("slow.example"), Zone("fast.example")], 1, true, TimeSpan.FromSeconds(2), time);
        var session = Session(dns);

        filter.StartAtConnect(session);
        dns.Answer("10.2.0.192.fast.example", DnsAnswer<IPAddress>.Of([IPAddress.Parse("127.0.0.3")]));
        var verdict = filter.EvaluateAsync(new FilterContext(Phase.Connect, session), CancellationToken.None).AsTask();
        Assert.False(verdict.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        var result = await verdict;

        Assert.Equal(VerdictKind.Reject, result.Kind);
        Assert.Contains("blocked using fast.example", result.Reply!.ToString());
        Assert.Contains(result.Symbols, s => s.Name == DnsblFilter.SkippedSymbol && s.Detail!.Contains("slow.example skipped: DNS failure: no answer within 2000 ms"));
    }

    [Theory]
    [InlineData("zones: []", "needs 'zones'")]
    [InlineData("zones: [{ zone: bl.example, weight: -1 }]", "block list's weight must be above 0")]
    [InlineData("zones: [{ zone: wl.example, type: allow, weight: 2 }]", "allow list's weight must be below 0")]
    [InlineData("zones: [{ zone: bl.example, codes: [nope] }]", "'codes': 'nope' is not")]
    [InlineData("zones: [{ zone: bl.example, typo: 1 }]", "typo")]
    [InlineData("zones: [{ zone: bl.example }], action: drop", "'action' must be reject or score")]
    [InlineData("zones: [{ zone: bl.example }], threshold: 0", "'threshold' must be above 0")]
    [InlineData("zones: [{ zone: bl.example }, { zone: BL.example. }]", "listed twice")]
    public void Configuration_errors_are_reported(string options, string expected)
    {
        var result = Gateway.Configuration.ConfigLoader.Load($"relay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\npipeline:\n  connect: [{{ type: dnsbl, {options} }}]\n", "gateway.yaml", _dir.Path);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains(expected, StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
