using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Which settings a reload applies: all but the listening sockets and the certificate paths, which the log names.</summary>
public class ReloadSettingsTests
{
    private static async Task RewriteAsync(GatewayHost gateway, string from, string to)
    {
        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        var text = await File.ReadAllTextAsync(path);
        Assert.Contains(from, text);
        await File.WriteAllTextAsync(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reloaded_drain_timeout_applies_to_the_next_stop()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var reloaded = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded"));
        await RewriteAsync(gateway, "hostname: mx.test.example\n", "hostname: mx.test.example\n  drain_timeout: 200ms\n");
        await reloaded;
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains("take effect only after a restart"));

        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO slow.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            var stopping = gateway.Server.StopAsync();
            // A transaction in progress would have had 30 s (the default); the reloaded 200 ms closes it.
            Assert.Equal("421 4.3.2 Service shutting down, closing connection", await c.ReadReplyAsync());
            await stopping;
        }
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("draining: 1 connection(s) open, waiting up to 00:00:00.2000000"));
    }

    [Fact]
    public async Task A_reloaded_hostname_greets_the_next_session_and_a_changed_listener_is_named_as_needing_a_restart()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var warned = gateway.Logs.WaitForAsync(l => l.Contains("take effect only after a restart"));
        await RewriteAsync(gateway, "hostname: mx.test.example\n", "hostname: mx2.test.example\n");
        await RewriteAsync(gateway, "listen: [\"127.0.0.1:0\"]", "listen: [\"127.0.0.1:0\", \"127.0.0.2:0\"]");
        var line = await warned;
        Assert.Contains("server.listen", line);
        Assert.DoesNotContain("server.hostname", line);

        var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
            Assert.StartsWith("220 mx2.test.example ESMTP", greeting);
    }

    [Fact]
    public async Task A_changed_admin_listener_is_named_as_needing_a_restart()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var warned = gateway.Logs.WaitForAsync(l => l.Contains("take effect only after a restart"));
        await RewriteAsync(gateway, "hostname: mx.test.example\n", "hostname: mx.test.example\nadmin:\n  listen: [\"127.0.0.1:0\"]\n");
        Assert.Contains("admin.listen", await warned);
    }

    [Fact]
    public async Task A_changed_console_key_directory_is_named_as_needing_a_restart()
    {
        await using var gateway = await GatewayHost.StartAsync("admin:\n  listen: [\"127.0.0.1:0\"]\n");
        var warned = gateway.Logs.WaitForAsync(l => l.Contains("take effect only after a restart"));
        await RewriteAsync(gateway, "admin:\n  listen: [\"127.0.0.1:0\"]\n", "admin:\n  listen: [\"127.0.0.1:0\"]\n  keys: console-keys\n");
        var line = await warned;
        Assert.Contains("admin.keys", line);
        Assert.DoesNotContain("admin.listen", line);
    }
}
