using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>server.greeting_delay: a client that talks before the banner is an early talker.</summary>
public class EarlyTalkerTests
{
    [Fact]
    public async Task A_client_that_talks_before_the_greeting_is_refused_with_554_5_5_0_and_closed()
    {
        await using var gateway = await GatewayHost.StartAsync("server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  greeting_delay: 2s\n");
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);

        await c.SendAsync("EHLO spambot.test\r\n");

        Assert.StartsWith("554 5.5.0 Protocol error: you sent data before the greeting", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
        await gateway.Logs.WaitForAsync(l => l.Contains("session end") && l.Contains("last_reply=\"554 5.5.0"));
    }

    [Fact]
    public async Task A_client_that_waits_gets_the_greeting_after_the_delay()
    {
        await using var gateway = await GatewayHost.StartAsync("server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  greeting_delay: 200ms\n");
        var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("220 mx.test.example", greeting);
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        }
    }

    [Fact]
    public async Task With_early_talker_score_the_session_goes_on_and_the_symbol_counts()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  greeting_delay: 2s\n  early_talker: score\n  early_talker_score: 4\n", upstream);
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);

        await c.SendAsync("EHLO impatient.test\r\n");
        Assert.StartsWith("220 mx.test.example", await c.ReadReplyAsync());
        Assert.StartsWith("250", await c.ReadReplyAsync());
        await Mail.BeginDataAsync(c, "<alice@sender.test>", "<bob@example.test>");
        Assert.StartsWith("250", await c.CommandAsync("Subject: hi\r\n\r\nhello\r\n."));

        await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("score=4 symbols=\"EARLY_TALKER(4: sent data within 2s, before the greeting)\""));
    }
}
