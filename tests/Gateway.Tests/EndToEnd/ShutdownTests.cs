using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

public class ShutdownTests
{
    [Fact]
    public async Task Drain_closes_idle_sessions_and_lets_a_transaction_in_progress_finish()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (idle, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        var (busy, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (idle)
        await using (busy)
        {
            Assert.StartsWith("250", await idle.CommandAsync("EHLO idle.test"));
            Assert.StartsWith("250", await busy.CommandAsync("EHLO busy.test"));
            Assert.StartsWith("250", await busy.CommandAsync("MAIL FROM:<a@sender.test>"));

            var stopping = gateway.Server.StopAsync(TimeSpan.FromSeconds(20));

            Assert.Equal("421 4.3.2 Service shutting down, closing connection", await idle.ReadReplyAsync());
            Assert.True(await idle.IsClosedAsync());
            Assert.StartsWith("250", await busy.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await busy.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0", await busy.CommandAsync("Subject: last\r\n\r\nx\r\n."));
            Assert.Equal("421 4.3.2 Service shutting down, closing connection", await busy.CommandAsync("MAIL FROM:<a@sender.test>"));
            await stopping;
        }
        Assert.Single(upstream.Messages);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => RawSmtpClient.ConnectAsync(gateway.Port));
    }

    [Fact]
    public async Task A_transaction_that_outlasts_the_drain_timeout_is_closed_with_421()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO slow.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            await gateway.Server.StopAsync(TimeSpan.FromMilliseconds(200));
            Assert.Equal("421 4.3.2 Service shutting down, closing connection", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
    }
}
