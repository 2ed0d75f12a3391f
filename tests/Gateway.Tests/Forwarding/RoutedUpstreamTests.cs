using System.Text;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Forwarding;

public class RoutedUpstreamTests
{
    private static SmtpPath To(string address)
    {
        Assert.Null(SmtpPath.TryParse($"<{address}>", allowNull: false, allowBarePostmaster: true, out var path, out _));
        return path;
    }

    private static GatewayConfig Config(TempDirectory dir, string bDirectory = "b")
    {
        var result = ConfigLoader.Load($$"""
            relay: { domains: [a.test, b.test] }
            upstream:
              directory: a
              routes:
                - { domains: [b.test], directory: {{bDirectory}} }
            """, "t.yaml", dir.Path);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Config!;
    }

    private static Task<UpstreamResult> DeliverAsync(IUpstream upstream, params string[] to) =>
        upstream.DeliverAsync(new Envelope("T1", To("alice@sender.test"), [.. to.Select(To)], false, false), "", new MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nHi.\r\n")), CancellationToken.None);

    [Fact]
    public async Task A_message_goes_to_the_route_of_its_recipients()
    {
        using var dir = new TempDirectory();
        await using var upstream = new RoutedUpstream(Config(dir), NullLogger.Instance);
        Assert.False(upstream.Realtime); // directories only: nothing to relay per recipient
        Assert.True((await DeliverAsync(upstream, "bob@b.test", "carol@B.test")).Delivered);
        Assert.True((await DeliverAsync(upstream, "dave@a.test")).Delivered);
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "b"), "*.eml"));
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "a"), "*.eml"));
    }

    [Fact]
    public async Task An_envelope_spanning_two_routes_is_refused_not_split()
    {
        // Only a quarantined message released after the routes changed can have one: the engine never makes one.
        using var dir = new TempDirectory();
        await using var upstream = new RoutedUpstream(Config(dir), NullLogger.Instance);
        var result = await DeliverAsync(upstream, "dave@a.test", "bob@b.test");
        Assert.False(result.Delivered);
        Assert.Equal("554 5.5.3 Recipients of more than one route in one message", result.Reply.ToString());
        Assert.Equal("recipients of routes default, b.test: each route needs its own transaction", result.Detail);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "a")));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "b")));
    }

    [Fact]
    public async Task The_next_configuration_keeps_the_upstream_of_each_unchanged_route()
    {
        using var dir = new TempDirectory();
        var first = new RoutedUpstream(Config(dir), NullLogger.Instance);
        var same = first.Next(Config(dir));
        Assert.Same(first.Route("default"), same.Route("default"));
        Assert.Same(first.Route("b.test"), same.Route("b.test"));
        var changed = same.Next(Config(dir, bDirectory: "b2"));
        Assert.Same(same.Route("default"), changed.Route("default"));
        Assert.NotSame(same.Route("b.test"), changed.Route("b.test"));
        await first.DisposeAsync();
        await same.DisposeAsync();
        await changed.DisposeAsync();
    }
}
