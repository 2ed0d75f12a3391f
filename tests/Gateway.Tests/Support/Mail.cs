using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Gateway.Tests.Support;

/// <summary>Shortcuts for end-to-end tests: a well-formed message and MailKit as the client.</summary>
public static class Mail
{
    public static MimeMessage Message(string subject = "hello", string from = "alice@sender.test", string to = "bob@example.test", string body = "Hello Bob.\r\n")
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = subject;
        m.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("sender.test");
        m.Body = new TextPart("plain") { Text = body };
        return m;
    }

    /// <summary>Sends with MailKit and returns the gateway's final reply text; throws SmtpCommandException on refusal.</summary>
    public static async Task<string> SendAsync(int port, MimeMessage message, string? from = null, IEnumerable<string>? to = null, SecureSocketOptions tls = SecureSocketOptions.None)
    {
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, LocalDomain = "client.test" };
        await client.ConnectAsync("127.0.0.1", port, tls);
        var sender = MailboxAddress.Parse(from ?? message.From.Mailboxes.First().Address);
        var recipients = (to ?? message.To.Mailboxes.Select(m => m.Address)).Select(MailboxAddress.Parse).ToList();
        var reply = await client.SendAsync(message, sender, recipients);
        await client.DisconnectAsync(true);
        return reply;
    }

    /// <summary>EHLO, MAIL, RCPT(s) and DATA over a raw client; asserts each step was accepted.</summary>
    public static async Task BeginDataAsync(RawSmtpClient c, string from = "<alice@sender.test>", params string[] to)
    {
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync($"MAIL FROM:{from}"));
        foreach (var rcpt in to.Length == 0 ? ["<bob@example.test>"] : to)
            Assert.StartsWith("250", await c.CommandAsync($"RCPT TO:{rcpt}"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
    }

    /// <summary>One message over a new raw session (EHLO, MAIL, RCPT, DATA accepted): the reply to its end.</summary>
    public static async Task<string> DataReplyAsync(int port, string message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(port);
        await using (c)
        {
            await BeginDataAsync(c);
            return await c.CommandAsync(message.TrimEnd('\r', '\n') + "\r\n.");
        }
    }

    /// <summary>The bytes after the Received header the gateway prepended.</summary>
    public static byte[] WithoutReceived(byte[] data)
    {
        var text = System.Text.Encoding.Latin1.GetString(data);
        Assert.StartsWith("Received: from ", text);
        var i = 0;
        // The header is its first line plus folded continuation lines.
        do
        {
            i = text.IndexOf("\r\n", i, StringComparison.Ordinal) + 2;
        } while (i < text.Length && (text[i] == '\t' || text[i] == ' '));
        return data[i..];
    }

    public static string ReceivedHeader(byte[] data)
    {
        var text = System.Text.Encoding.Latin1.GetString(data);
        return text[..(text.Length - WithoutReceived(data).Length)];
    }
}
