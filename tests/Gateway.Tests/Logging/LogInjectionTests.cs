using System.Text;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;

namespace Gateway.Tests.Logging;

/// <summary>No value a sender controls can create, end or duplicate a field of the transaction log line.</summary>
public class LogInjectionTests
{
    private const string Forged = "lottery\" outcome=delivered by=upstream x=\".exe";

    [Fact]
    public async Task An_attachment_name_that_forges_fields_stays_inside_its_own_value()
    {
        await using var upstream = new FakeUpstream();
        var shipped = Path.Combine(RepoRoot.Find(), "rules", "attachments.yaml");
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{shipped}\"]\n", upstream);
        var builder = new MimeKit.BodyBuilder { TextBody = "see attached" };
        builder.Attachments.Add(Forged, [.. "MZ"u8, .. new byte[100]], MimeKit.ContentType.Parse("application/octet-stream"));
        var message = Mail.Message();
        message.Body = builder.ToMessageBody();
        var refused = await Assert.ThrowsAsync<MailKit.Net.Smtp.SmtpCommandException>(() => Mail.SendAsync(gateway.Port, message));
        Assert.Equal(554, (int)refused.StatusCode);

        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Single(Regex.Matches(line, "outcome="));
        Assert.Equal("rejected", Regex.Match(line, @"outcome=(\S+)").Groups[1].Value); // what a first-match reader takes
        var fields = LogFields.Parse(line[line.IndexOf("transaction", StringComparison.Ordinal)..]);
        Assert.Single(fields, f => f.Key == "outcome");
        Assert.Single(fields, f => f.Key == "by");
        Assert.DoesNotContain(fields, f => f.Key == "x");
        Assert.Contains(Forged, fields.Single(f => f.Key == "symbols").Value);
        Assert.StartsWith("rule:", fields.Single(f => f.Key == "by").Value);
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Control_characters_quotes_backslashes_and_unicode_in_helo_and_subject_round_trip_on_one_line()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        var helo = "x\"y\\z<x>=1";
        var subject = "a\r\nb\0c\\d\"e outcome=delivered \u00e9\u202egpj.exe \U0001F600 <f@g>";
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO " + helo));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            var encoded = "=?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(subject)) + "?=";
            Assert.StartsWith("250", await c.CommandAsync($"Subject: {encoded}\r\nMessage-ID: <id=1@sender.test>\r\n\r\nbody\r\n."));
        }
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.DoesNotContain('\0', line);
        Assert.DoesNotContain('\u202e', line);
        Assert.Contains("\U0001F600", line); // readable characters stay readable
        Assert.Single(Regex.Matches(line, "outcome="));
        var fields = LogFields.Parse(line[line.IndexOf("transaction", StringComparison.Ordinal)..]);
        // The HELO name's quote, backslash and angle brackets are neutered at HELO (as Postfix does; see
        // HostileClientTests); its '=' still reaches the log, and the Subject carries quotes and backslashes.
        Assert.Equal("x?y?z?x?=1", fields.Single(f => f.Key == "helo").Value);
        Assert.Equal(subject, fields.Single(f => f.Key == "subject").Value);
        Assert.Equal("<id=1@sender.test>", fields.Single(f => f.Key == "message_id").Value);
        Assert.Equal("delivered", fields.Single(f => f.Key == "outcome").Value);
    }

    [Fact]
    public async Task Every_recipient_refused_at_rcpt_is_logged_as_rejected_with_quoted_refusals()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("554", await c.CommandAsync("RCPT TO:<eve@other.test>"));
            Assert.StartsWith("554", await c.CommandAsync("RCPT TO:<\"x y\"@other.test>"));
            Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        }
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        var fields = LogFields.Parse(line[line.IndexOf("transaction", StringComparison.Ordinal)..]);
        Assert.Equal("rejected", fields.Single(f => f.Key == "outcome").Value);
        Assert.Equal("<eve@other.test> 554 5.7.1 by relay; <\"x y\"@other.test> 554 5.7.1 by relay", fields.Single(f => f.Key == "refused").Value);
    }
}
