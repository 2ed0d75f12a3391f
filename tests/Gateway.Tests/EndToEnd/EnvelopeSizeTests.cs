using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>RFC 5321 4.5.3.1 sizes, RFC 6531 addresses, and recipients past limits.max_recipients (Postfix's overshoot behaviour).</summary>
public class EnvelopeSizeTests
{
    [Fact]
    public async Task Recipients_past_the_limit_get_452_without_counting_as_errors_and_the_others_get_the_message()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_recipients: 100\n  max_errors: 10\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            var pipelined = new StringBuilder("MAIL FROM:<alice@sender.test>\r\n");
            for (var i = 0; i < 150; i++)
                pipelined.Append($"RCPT TO:<user{i}@example.test>\r\n");
            pipelined.Append("DATA\r\n");
            await c.SendAsync(pipelined.ToString());
            Assert.StartsWith("250 2.1.0", await c.ReadReplyAsync());
            for (var i = 0; i < 100; i++)
                Assert.StartsWith("250 2.1.5", await c.ReadReplyAsync());
            for (var i = 0; i < 50; i++)
                Assert.Equal("452 4.5.3 Too many recipients", await c.ReadReplyAsync());
            Assert.StartsWith("354", await c.ReadReplyAsync());
            Assert.StartsWith("250 2.0.0", await c.CommandAsync("Subject: many\r\n\r\nhello\r\n."));
        }
        var message = Assert.Single(upstream.Messages);
        Assert.Equal(100, message.RcptTo.Count);
        Assert.Equal("user99@example.test", message.RcptTo[^1]);
    }

    [Fact]
    public async Task Past_the_overshoot_each_452_counts_as_an_error_so_recipients_cannot_go_on_without_end()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_recipients: 2\n  max_recipient_overshoot: 3\n  max_errors: 2\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            var pipelined = new StringBuilder("MAIL FROM:<alice@sender.test>\r\n");
            for (var i = 0; i < 1_000; i++)
                pipelined.Append($"RCPT TO:<user{i}@example.test>\r\n");
            await c.SendAsync(pipelined.ToString());
            Assert.StartsWith("250 2.1.0", await c.ReadReplyAsync());
            for (var i = 0; i < 2; i++)
                Assert.StartsWith("250 2.1.5", await c.ReadReplyAsync());
            // Three forgiven as overshoot, then two that count: the error limit closes the session.
            for (var i = 0; i < 3 + 2; i++)
                Assert.Equal("452 4.5.3 Too many recipients", await c.ReadReplyAsync());
            Assert.StartsWith("421 4.7.0", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
        Assert.Contains("errors=2", await gateway.Logs.WaitForAsync(l => l.Contains("session end id=", StringComparison.Ordinal)));
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task The_overshoot_is_counted_per_transaction()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_recipients: 1\n  max_recipient_overshoot: 1\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            foreach (var subject in new[] { "one", "two" })
            {
                Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
                Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
                Assert.Equal("452 4.5.3 Too many recipients", await c.CommandAsync("RCPT TO:<carol@example.test>"));
                Assert.StartsWith("354", await c.CommandAsync("DATA"));
                Assert.StartsWith("250", await c.CommandAsync($"Subject: {subject}\r\n\r\nhello\r\n."));
            }
            Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        }
        Assert.Contains("errors=0", await gateway.Logs.WaitForAsync(l => l.Contains("session end id=", StringComparison.Ordinal)));
        Assert.Equal(2, upstream.Messages.Count);
    }

    [Theory]
    [InlineData("RCPT TO:<{local65}@example.test>", "553 5.1.3")]
    [InlineData("RCPT TO:<bob@{domain256}>", "501 5.1.3")]
    [InlineData("RCPT TO:<{local64}@{domain190}>", "501 5.1.3")]
    [InlineData("MAIL FROM:<{local65}@sender.test>", "553 5.1.7")]
    public async Task Addresses_over_the_RFC_5321_sizes_are_refused_and_never_forwarded(string command, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            if (command.StartsWith("RCPT", StringComparison.Ordinal))
                Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            var line = command.Replace("{local65}", new string('a', 65)).Replace("{local64}", new string('a', 64))
                .Replace("{domain256}", Domain(256)).Replace("{domain190}", Domain(190));
            Assert.StartsWith(expected, await c.CommandAsync(line));
            if (command.StartsWith("RCPT", StringComparison.Ordinal))
                Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("DATA"));
        }
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task A_local_part_of_64_octets_is_accepted()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250 2.1.5", await c.CommandAsync($"RCPT TO:<{new string('a', 64)}@example.test>"));
        }
    }

    [Fact]
    public async Task A_non_ascii_address_needs_the_SMTPUTF8_parameter()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.Equal("553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter", await c.CommandAsync("MAIL FROM:<jörg@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.Equal("553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter", await c.CommandAsync("RCPT TO:<jürgen@example.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RSET"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<jörg@sender.test> SMTPUTF8"));
            Assert.StartsWith("250 2.1.5", await c.CommandAsync("RCPT TO:<jürgen@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0", await c.CommandAsync("Subject: utf8\r\n\r\nhello\r\n."));
        }
        Assert.Equal("jürgen@example.test", Assert.Single(Assert.Single(upstream.Messages).RcptTo));
    }

    /// <summary>A syntactically valid domain of exactly <paramref name="length"/> octets under example.test.</summary>
    private static string Domain(int length)
    {
        var suffix = ".example.test";
        var labels = new StringBuilder();
        while (labels.Length + suffix.Length < length)
        {
            var room = length - suffix.Length - labels.Length;
            var label = Math.Min(63, room - (labels.Length > 0 ? 1 : 0));
            if (label < 1)
                break;
            if (labels.Length > 0)
                labels.Append('.');
            labels.Append(new string('d', label));
        }
        return labels + suffix;
    }
}
