using Gateway.Dns;
using Gateway.Pipeline;
using Gateway.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters.Abuse;

public sealed class GreylistFilterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    private AbuseFilterHarness Harness(string options = "", IStateStore? store = null) =>
        new($"pipeline:\n  rcpt_to: [{{ type: greylist, delay: 5m{options} }}]", store ?? new MemoryStateStore(_time), _dir);

    [Fact]
    public async Task A_new_triplet_is_deferred_and_a_retry_after_the_delay_from_the_same_network_passes()
    {
        var h = Harness();

        var first = await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test");
        Assert.Equal(VerdictKind.Tempfail, first.Kind);
        Assert.Equal("451 4.7.1 Greylisted, try again in 300 seconds (greylist)", first.ReplyOrDefault().ToString());
        Assert.Equal("GREYLIST", Assert.Single(first.Symbols).Name);
        Assert.Equal("192.0.2.0/24 <alice@sender.test> <bob@example.test>: first attempt", first.Symbols[0].Detail);

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("451 4.7.1 Greylisted, try again in 60 seconds (greylist)", (await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).ReplyOrDefault().ToString());
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(), "carol@example.test")).Kind);

        _time.Advance(TimeSpan.FromMinutes(1));
        var retry = await h.RunAsync(Phase.RcptTo, h.Session(client: "192.0.2.99"), "bob@example.test");
        Assert.Equal(VerdictKind.Continue, retry.Kind);
        Assert.Equal("GREYLIST_PASS", Assert.Single(retry.Symbols).Name);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task Clients_a_dnswl_filter_listed_are_not_greylisted()
    {
        var h = Harness();

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(connectSymbols: new Symbol("DNSWL_MED", -1, "list.dnswl.test")), "bob@example.test");

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("client listed (DNSWL_MED)", Assert.Single(verdict.Symbols).Detail);
    }

    [Fact]
    public async Task A_sender_whose_spf_passes_is_not_greylisted_unless_told_otherwise()
    {
        var dns = new ZoneResolver().Add("sender.test", RecordType.TXT, "v=spf1 ip4:192.0.2.0/24 -all");
        var h = Harness();
        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(dns: dns), "bob@example.test");
        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("SPF pass for sender.test", Assert.Single(verdict.Symbols).Detail);

        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(client: "203.0.113.5", dns: dns), "bob@example.test")).Kind);
        var strict = Harness(", skip_spf_pass: false");
        Assert.Equal(VerdictKind.Tempfail, (await strict.RunAsync(Phase.RcptTo, strict.Session(dns: dns), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task A_dns_failure_during_spf_greylists_rather_than_refuses()
    {
        var h = Harness();

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(dns: new ZoneResolver().Fail("sender.test", "timeout")), "bob@example.test");

        Assert.Equal(VerdictKind.Tempfail, verdict.Kind);
        Assert.StartsWith("451 4.7.1", verdict.ReplyOrDefault().ToString());
    }

    [Fact]
    public async Task Allow_listed_domains_and_networks_skip_greylisting()
    {
        var h = Harness(", allow: { networks: [203.0.113.0/24], domains: [sender.test] }");

        Assert.Equal("GREYLIST_SKIPPED", Assert.Single((await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).Symbols).Name);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(client: "203.0.113.5", from: "x@else.test"), "bob@example.test")).Kind);
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(from: "x@else.test"), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task A_backend_error_lets_mail_through_by_default()
    {
        var h = Harness(store: new UnavailableStore());

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test");

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("STATE_UNAVAILABLE", Assert.Single(verdict.Symbols).Name);
    }

    [Fact]
    public void Greylisting_runs_only_at_rcpt_to()
    {
        var result = Gateway.Configuration.ConfigLoader.Load("pipeline:\n  mail_from: [{ type: greylist }]\nrelay: { domains: [example.test] }\nupstream: { directory: out }\n", "gateway.yaml", _dir.Path);

        Assert.Contains(result.Errors, e => e.ToString().Contains("cannot run at mail_from; it runs at rcpt_to", StringComparison.Ordinal));
    }
}
