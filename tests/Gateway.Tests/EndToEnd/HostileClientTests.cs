using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// What a hostile client puts in its HELO name and envelope addresses never reaches the upstream as anything but
/// what the gateway checked: no comment it did not write in the Received header, no address the upstream must not see.
/// </summary>
public class HostileClientTests
{
    [Fact]
    public async Task A_helo_name_cannot_open_a_comment_in_the_received_header()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            // An unbalanced "(" would make the client's address and everything after it a comment to the reader.
            Assert.StartsWith("250", await c.CommandAsync("EHLO evil(\"<x@y>;"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        var header = Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data);
        Assert.StartsWith("Received: from evil???x?y?? ([127.0.0.1])\r\n", header);
    }

    [Fact]
    public async Task A_long_helo_name_reaches_the_filters_and_the_received_header_whole()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var name = new string('a', 63) + "." + new string('b', 40) + ".example.net"; // 116 octets, a valid host name
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Contains($"Hello {name} [127.0.0.1]", await c.CommandAsync("EHLO " + name));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.StartsWith($"Received: from {name} ([127.0.0.1])\r\n", Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data));
    }
}
