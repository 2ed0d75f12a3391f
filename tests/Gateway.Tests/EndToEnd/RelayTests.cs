using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>No open relay, ever: recipients only in relay.domains unless the client is in relay.networks.</summary>
public class RelayTests
{
    [Theory]
    [InlineData("<user@other.test>", "554 5.7.1 Relay access denied")]
    [InlineData("<user@example.test.evil.test>", "554 5.7.1 Relay access denied")]
    [InlineData("<user@evilexample.test>", "554 5.7.1 Relay access denied")]
    [InlineData("<user%other.test@example.test>", "554 5.7.1")]
    [InlineData("<@example.test:user@other.test>", "554 5.7.1")]
    [InlineData("<other.test!user@example.test>", "554 5.7.1")]
    [InlineData("<\"user@other.test\"@example.test>", "554 5.7.1")]
    [InlineData("<\"user%other.test\"@example.test>", "554 5.7.1")]
    [InlineData("<user@[127.0.0.1]>", "554 5.7.1")]
    [InlineData("<user@example.test.>", "554 5.7.1")]
    public async Task Refuses_relay_tricks(string recipient, string expected)
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.StartsWith(expected, await c.CommandAsync($"RCPT TO:{recipient}"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<User@EXAMPLE.test>"));
        }
    }

    [Fact]
    public async Task Accepts_postmaster_and_the_null_sender()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, "<>", "<postmaster>");
            Assert.StartsWith("250", await c.CommandAsync("Subject: bounce\r\n\r\nx\r\n."));
        }
        var message = Assert.Single(upstream.Messages);
        Assert.Equal("", message.MailFrom);
        Assert.Equal(["postmaster@example.test"], message.RcptTo);
    }

    [Fact]
    public async Task Relay_networks_may_relay_anywhere()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("relay:\n  domains: [example.test]\n  networks: [\"127.0.0.0/8\"]\n", upstream);
        await Mail.SendAsync(gateway.Port, Mail.Message(to: "carol@elsewhere.test"));
        Assert.Equal(["carol@elsewhere.test"], Assert.Single(upstream.Messages).RcptTo);
    }

    [Fact]
    public async Task A_refused_recipient_is_named_in_the_transaction_log()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, "<a@sender.test>", "<bob@example.test>");
            await c.CommandAsync("x\r\n.");
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.StartsWith("554", await c.CommandAsync("RCPT TO:<eve@other.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("y\r\n."));
        }
        var line = await gateway.Logs.WaitForAsync(l => l.Contains(".2 outcome="));
        Assert.Contains("refused=\"<eve@other.test> 554 5.7.1", line);
    }

    [Fact]
    public async Task A_transaction_whose_recipients_were_all_refused_is_still_logged()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.StartsWith("554", await c.CommandAsync("RCPT TO:<eve@other.test>"));
            Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        }
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("from=\"<a@sender.test>\" to=\"\" refused=\"<eve@other.test> 554 5.7.1 by relay\"", line);
        // Every recipient refused: the transaction was refused, not abandoned (a log count of refusals must see it).
        Assert.Contains("by=relay", line);
        Assert.Contains("outcome=rejected", line);
        Assert.Contains("reply=\"554 5.7.1 Relay access denied\"", line);
    }
}
