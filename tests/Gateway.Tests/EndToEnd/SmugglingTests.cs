using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// SMTP smuggling (CVE-2023-51764 and relatives): a client hides a second transaction behind a non-standard
/// end-of-data in the same write. Whatever the variant, the upstream must receive at most one message, and only
/// CRLF-terminated lines.
/// </summary>
public class SmugglingTests
{
    public static TheoryData<string, string> Variants() => new()
    {
        { "reject", "\n.\n" }, { "reject", "\r.\r" }, { "reject", "\r\n.\n" }, { "reject", "\n.\r\n" },
        { "reject", "\r\n\0.\r\n" }, { "reject", "\r\n.\0\r\n" }, { "reject", "\r.\r\n" }, { "reject", "\n.\r" },
        { "normalize", "\n.\n" }, { "normalize", "\r.\r" }, { "normalize", "\r\n.\n" }, { "normalize", "\n.\r\n" },
        { "normalize", "\r\n\0.\r\n" }, { "normalize", "\r.\r\n" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task A_pipelined_second_transaction_never_becomes_a_second_message(string mode, string fakeEnd)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"policy:\n  bare_line_endings: {mode}\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var payload = "Subject: first\r\n\r\nfirst body" + fakeEnd
                + "MAIL FROM:<spoof@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                + "Subject: smuggled\r\n\r\nsmuggled body\r\n.\r\n";
            await c.SendAsync(Encoding.Latin1.GetBytes(payload));
            var reply = await c.ReadReplyAsync();
            if (mode == "reject")
                Assert.Equal("554 5.6.0 Message contains bare CR, bare LF or NUL; lines must end with CRLF", reply);
            else
                Assert.StartsWith("250 2.0.0", reply);
            // Nothing else was taken as a command: the next reply answers NOOP.
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
        }

        if (mode == "reject")
        {
            Assert.Empty(upstream.Messages);
            return;
        }
        var message = Assert.Single(upstream.Messages);
        Assert.Equal("bob@example.test", Assert.Single(message.RcptTo));
        Assert.Equal("alice@sender.test", message.MailFrom);
        var text = Encoding.Latin1.GetString(message.Data);
        Assert.DoesNotContain('\0', text);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
                Assert.True(i > 0 && text[i - 1] == '\r', $"bare LF at {i}");
            if (text[i] == '\r')
                Assert.True(i + 1 < text.Length && text[i + 1] == '\n', $"bare CR at {i}");
        }
    }

    [Fact]
    public async Task A_bare_lf_inside_an_ordinary_message_is_refused_by_default()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("554 5.6.0", await c.CommandAsync("Subject: x\r\n\r\nline\nother\r\n."));
            // The session goes on: a clean message is accepted.
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("Subject: y\r\n\r\nclean\r\n."));
        }
        var message = Assert.Single(upstream.Messages);
        Assert.Contains("clean", message.Text);
    }
}
