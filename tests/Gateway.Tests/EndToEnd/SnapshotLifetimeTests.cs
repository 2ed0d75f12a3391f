using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>One runtime per configuration snapshot: a reload shares what did not change and disposes the rest after its last session.</summary>
public class SnapshotLifetimeTests
{
    private static async Task ReloadAsync(GatewayHost gateway, string from, string to)
    {
        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        var text = await File.ReadAllTextAsync(path);
        Assert.Contains(from, text);
        await File.WriteAllTextAsync(path, text.Replace(from, to, StringComparison.Ordinal));
        Assert.True(gateway.Server.Reload());
    }

    [Fact]
    public async Task A_reload_that_changes_the_upstream_disposes_the_old_pool_after_the_last_session_using_it()
    {
        await using var first = new FakeUpstream();
        await using var second = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", first);
        var old = gateway.Server.CurrentSnapshot;
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.Equal(1, old.Sessions);
            await ReloadAsync(gateway, first.HostPort, second.HostPort);
            var next = gateway.Server.CurrentSnapshot;
            Assert.NotSame(old.Upstream, next.Upstream);
            Assert.Same(old.State, next.State); // the state section did not change: its counters carry on
            Assert.Same(old.Dns, next.Dns);
            // The session that started before the reload still delivers through the old pool, to the old upstream.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<s@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: before\r\n\r\nhi\r\n."));
            Assert.Single(first.Messages);
            Assert.False(old.Released.IsCompleted);
            Assert.False(old.UpstreamHold!.IsDisposed);
            Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        }
        // Its last session ended: the old pool is disposed, the shared state is not.
        await old.Released.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(old.UpstreamHold!.IsDisposed);
        Assert.False(old.StateHold!.IsDisposed);
        Assert.Same(old.StateHold, gateway.Server.CurrentSnapshot.StateHold);
        await Mail.SendAsync(gateway.Port, Mail.Message("after"));
        Assert.Single(second.Messages);
    }

    [Fact]
    public async Task A_reload_that_changes_nothing_the_runtime_uses_reuses_everything()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        await Mail.SendAsync(gateway.Port, Mail.Message("one"));
        var old = gateway.Server.CurrentSnapshot;
        await ReloadAsync(gateway, "hostname: mx.test.example", "hostname: mx2.test.example");
        var next = gateway.Server.CurrentSnapshot;
        Assert.NotSame(old, next);
        Assert.Equal((old.Upstream, old.State, old.Dns), (next.Upstream, next.State, next.Dns));
        // The old snapshot had no session: released at once, and nothing it shares is disposed.
        await old.Released.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(next.Resources, r => Assert.False(r.IsDisposed));
        await Mail.SendAsync(gateway.Port, Mail.Message("two"));
        Assert.Equal(2, upstream.Messages.Count);
        Assert.Equal(1, upstream.Connections); // the pooled connection carried on
    }
}
