using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Forwarding;

/// <summary>The upstream pool over loopback, on a fake clock: idle connections close by themselves, and the pool is bounded.</summary>
public class UpstreamPoolTests
{
    private readonly FakeTimeProvider _time = new();

    private static UpstreamConfig Config(FakeUpstream upstream, int poolSize = 4) =>
        new([new HostPort("127.0.0.1", upstream.Port)], null, UpstreamTls.None, false, TimeSpan.FromSeconds(10), poolSize, TimeSpan.FromSeconds(30));

    private static SmtpPath Path(string address)
    {
        Assert.Null(SmtpPath.TryParse($"<{address}>", allowNull: false, allowBarePostmaster: false, out var path, out _));
        return path;
    }

    private static Envelope Envelope() => new("T1", Path("alice@sender.test"), [Path("bob@example.test")], false, false);

    private static MemoryStream Body() => new("Subject: hi\r\n\r\nHello.\r\n"u8.ToArray());

    [Fact]
    public async Task Idle_connections_are_closed_once_the_idle_timeout_has_passed()
    {
        await using var upstream = new FakeUpstream();
        await using var relay = new SmtpUpstream(Config(upstream), "gw.test", NullLogger.Instance, _time);
        Assert.True((await relay.DeliverAsync(Envelope(), "", Body(), default)).Delivered);
        Assert.Equal(1, relay.Pool.IdleCount);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(1, relay.Pool.IdleCount);
        Assert.Equal(1, upstream.OpenConnections);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, relay.Pool.IdleCount);
        await upstream.WaitForCloseAsync();
        Assert.Equal(0, upstream.OpenConnections);

        // The next message opens a new connection.
        Assert.True((await relay.DeliverAsync(Envelope(), "", Body(), default)).Delivered);
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task A_connection_used_again_waits_its_full_idle_timeout_again()
    {
        await using var upstream = new FakeUpstream();
        await using var relay = new SmtpUpstream(Config(upstream), "gw.test", NullLogger.Instance, _time);
        Assert.True((await relay.DeliverAsync(Envelope(), "", Body(), default)).Delivered);
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True((await relay.DeliverAsync(Envelope(), "", Body(), default)).Delivered);
        _time.Advance(TimeSpan.FromSeconds(20)); // 40 s after the first use, 20 s after the last
        Assert.Equal(1, relay.Pool.IdleCount);
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(0, relay.Pool.IdleCount);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task The_pool_size_bounds_transactions_open_upstream_at_once()
    {
        await using var upstream = new FakeUpstream();
        await using var relay = new SmtpUpstream(Config(upstream, poolSize: 1), "gw.test", NullLogger.Instance, _time);
        var first = relay.Begin(Path("alice@sender.test"), default);
        Assert.True((await first.AddRecipientAsync(Path("bob@example.test"), default)).IsPositive);

        var second = relay.Begin(Path("carol@sender.test"), default);
        var waiting = second.AddRecipientAsync(Path("dave@example.test"), default);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, upstream.Connections);

        first.Abandon(); // RSET, and the connection serves the waiting transaction
        Assert.True((await waiting.WaitAsync(TimeSpan.FromSeconds(20))).IsPositive);
        Assert.True((await second.SendAsync("", Body(), default)).Delivered);
        Assert.Equal("carol@sender.test", Assert.Single(upstream.Messages).MailFrom);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Pool_size_0_opens_a_connection_per_transaction_and_closes_it()
    {
        await using var upstream = new FakeUpstream();
        await using var relay = new SmtpUpstream(Config(upstream, poolSize: 0), "gw.test", NullLogger.Instance, _time);
        for (var i = 0; i < 2; i++)
        {
            Assert.True((await relay.DeliverAsync(Envelope(), "", Body(), default)).Delivered);
            Assert.Equal(0, relay.Pool.IdleCount);
            await upstream.WaitForCloseAsync();
        }
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task A_full_pool_answers_451_once_the_upstream_timeout_has_passed()
    {
        await using var upstream = new FakeUpstream();
        await using var relay = new SmtpUpstream(Config(upstream, poolSize: 1), "gw.test", NullLogger.Instance, _time);
        var first = relay.Begin(Path("alice@sender.test"), default);
        Assert.True((await first.AddRecipientAsync(Path("bob@example.test"), default)).IsPositive);
        var waiting = relay.Begin(Path("carol@sender.test"), default).AddRecipientAsync(Path("dave@example.test"), default);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(Reply.UpstreamUnavailable, await waiting.WaitAsync(TimeSpan.FromSeconds(20)));
        first.Abandon();
    }
}
