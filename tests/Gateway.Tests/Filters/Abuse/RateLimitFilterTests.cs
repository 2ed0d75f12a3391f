using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters.Abuse;

public sealed class RateLimitFilterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    private AbuseFilterHarness Harness(string pipeline, IStateStore? store = null, string state = "") =>
        new(pipeline, store ?? new MemoryStateStore(_time), _dir, state);

    [Fact]
    public async Task Connections_over_the_limit_are_closed_with_421_4_7_0_and_the_time_to_wait()
    {
        var h = Harness("pipeline:\n  connect: [{ type: rate_limit, name: conn-rate, key: client_ip, limit: 2, window: 1m }]");
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.Connect, h.Session(from: null))).Kind);
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.Connect, h.Session(from: null))).Kind);

        var verdict = await h.RunAsync(Phase.Connect, h.Session(from: null));

        Assert.Equal(VerdictKind.Disconnect, verdict.Kind);
        Assert.Equal("conn-rate", verdict.Source);
        Assert.Equal("421 4.7.0 Too many connections from 192.0.2.10, try again in 40 seconds (conn-rate)", verdict.ReplyOrDefault().ToString());
        var symbol = Assert.Single(verdict.Symbols);
        Assert.Equal("RATE_LIMIT", symbol.Name);
        Assert.Equal("conn-rate: from 192.0.2.10: 2 of 2 per 1m", symbol.Detail);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.Connect, h.Session(client: "192.0.2.11", from: null))).Kind);
    }

    [Fact]
    public async Task Recipients_are_counted_per_recipient_and_refused_with_451_4_7_1()
    {
        var h = Harness("pipeline:\n  rcpt_to: [{ type: rate_limit, key: recipient, limit: 1, window: 1h }]");

        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).Kind);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(), "carol@example.test")).Kind);
        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(client: "203.0.113.9"), "BOB@example.test");

        Assert.Equal(VerdictKind.Tempfail, verdict.Kind);
        Assert.Equal("451 4.7.1 Too many recipients to bob@example.test, try again in 3600 seconds (rate_limit)", verdict.ReplyOrDefault().ToString());
    }

    [Fact]
    public async Task A_client_network_key_counts_the_whole_network()
    {
        var h = Harness("pipeline:\n  mail_from: [{ type: rate_limit, key: client_network, network_v4: 24, limit: 2, window: 1h, reply: Slow down }]");
        await h.RunAsync(Phase.MailFrom, h.Session(client: "192.0.2.1"));
        await h.RunAsync(Phase.MailFrom, h.Session(client: "192.0.2.2"));

        var verdict = await h.RunAsync(Phase.MailFrom, h.Session(client: "192.0.2.3"));

        Assert.Equal("451 4.7.1 Slow down, try again in 3600 seconds (rate_limit)", verdict.ReplyOrDefault().ToString());
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.MailFrom, h.Session(client: "192.0.3.1"))).Kind);
    }

    [Fact]
    public async Task A_composite_key_counts_each_sender_and_recipient_pair()
    {
        var h = Harness("pipeline:\n  rcpt_to: [{ type: rate_limit, key: [sender_domain, recipient], limit: 1, window: 1h }]");
        await h.RunAsync(Phase.RcptTo, h.Session(from: "a@Sender.test"), "bob@example.test");

        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(from: "a@other.test"), "bob@example.test")).Kind);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(from: "b@sender.test"), "carol@example.test")).Kind);
        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(from: "b@sender.test"), "bob@example.test");
        Assert.Equal("451 4.7.1 Too many recipients from sender.test to bob@example.test, try again in 3600 seconds (rate_limit)", verdict.ReplyOrDefault().ToString());
    }

    [Fact]
    public async Task Allow_listed_networks_and_sender_domains_are_never_limited()
    {
        var h = Harness("pipeline:\n  mail_from: [{ type: rate_limit, key: client_ip, limit: 1, window: 1h, allow: { networks: [198.51.100.0/24], domains: [partner.test] } }]");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.MailFrom, h.Session(client: "198.51.100.7"))).Kind);
            var verdict = await h.RunAsync(Phase.MailFrom, h.Session(from: "x@mail.partner.test"));
            Assert.Equal(VerdictKind.Continue, verdict.Kind);
            Assert.Equal("rate_limit: sender domain mail.partner.test allow-listed", Assert.Single(verdict.Symbols).Detail);
        }
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.MailFrom, h.Session())).Kind);
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.MailFrom, h.Session())).Kind);
    }

    [Fact]
    public async Task A_backend_error_lets_mail_through_by_default_and_tempfails_when_configured()
    {
        var allow = Harness("pipeline:\n  mail_from: [{ type: rate_limit, limit: 1, window: 1h }]", new UnavailableStore());
        var passed = await allow.RunAsync(Phase.MailFrom, allow.Session());
        Assert.Equal(VerdictKind.Continue, passed.Kind);
        Assert.Equal("STATE_UNAVAILABLE", Assert.Single(passed.Symbols).Name);

        var strict = Harness("pipeline:\n  mail_from: [{ type: rate_limit, limit: 1, window: 1h }]", new UnavailableStore(), "state: { on_backend_error: tempfail }");
        var deferred = await strict.RunAsync(Phase.MailFrom, strict.Session());
        Assert.Equal("451 4.3.0 Shared state unavailable, try again later (rate_limit)", deferred.ReplyOrDefault().ToString());

        var overridden = Harness("pipeline:\n  mail_from: [{ type: rate_limit, limit: 1, window: 1h, on_backend_error: allow }]", new UnavailableStore(), "state: { on_backend_error: tempfail }");
        Assert.Equal(VerdictKind.Continue, (await overridden.RunAsync(Phase.MailFrom, overridden.Session())).Kind);
    }

    [Fact]
    public async Task Offline_there_is_no_state_and_the_check_says_so()
    {
        var h = new AbuseFilterHarness("pipeline:\n  mail_from: [{ type: rate_limit, limit: 1, window: 1h }]", null, _dir);

        var verdict = await h.RunAsync(Phase.MailFrom, h.Session());

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("STATE_NOT_CHECKED", Assert.Single(verdict.Symbols).Name);
    }

    [Theory]
    [InlineData("connect: [{ type: rate_limit, key: sender, limit: 1, window: 1h }]", "cannot run at connect")]
    [InlineData("mail_from: [{ type: rate_limit, key: recipient, limit: 1, window: 1h }]", "cannot run at mail_from")]
    [InlineData("connect: [{ type: rate_limit, key: client_ip }]", "needs 'limit'")]
    [InlineData("connect: [{ type: rate_limit, key: helo, limit: 1, window: 1h }]", "'key' must be one of")]
    [InlineData("connect: [{ type: rate_limit, limit: 0, window: 1h }]", "'pipeline.connect[0].limit' must be a whole number")]
    [InlineData("connect: [{ type: rate_limit, limit: 1, window: 1h, allow: { networks: [nope] } }]", "'allow.networks' entry 'nope'")]
    [InlineData("connect: [{ type: rate_limit, limit: 1, window: 1h, network_v6: 200 }]", "network_v6")]
    public void Configuration_mistakes_are_reported(string pipeline, string error)
    {
        var result = ConfigLoader.Load($"pipeline:\n  {pipeline}\nrelay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\n", "gateway.yaml", _dir.Path);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains(error, StringComparison.Ordinal));
    }
}
