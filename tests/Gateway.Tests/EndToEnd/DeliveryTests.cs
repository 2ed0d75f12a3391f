using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

public class DeliveryTests
{
    [Fact]
    public async Task Relays_a_message_and_the_upstream_reply_and_prepends_one_received_header()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var message = Mail.Message();
        using var original = new MemoryStream();

        var reply = await Mail.SendAsync(gateway.Port, message);

        Assert.Equal("2.0.0 Ok: queued as TEST", reply);
        var received = Assert.Single(upstream.Messages);
        Assert.Equal("alice@sender.test", received.MailFrom);
        Assert.Equal(["bob@example.test"], received.RcptTo);
        var header = Mail.ReceivedHeader(received.Data);
        Assert.Matches(@"^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example with ESMTP\r\n\tid \w+\.1\r\n\tfor <bob@example\.test>; ", header);
        Assert.Contains("Subject: hello", received.Text);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("client=127.0.0.1 helo=\"client.test\" tls=none from=\"<alice@sender.test>\" to=\"<bob@example.test>\"", line);
        Assert.Contains("outcome=delivered by=upstream reply=\"250 2.0.0 Ok: queued as TEST\"", line);
    }

    [Fact]
    public async Task Forwards_the_bytes_unchanged()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var body = "From: a@sender.test\r\nTo: bob@example.test\r\nSubject:  odd   spacing \r\nX-Folded: one\r\n\ttwo\r\n\r\n"
            + ".leading dot\r\n..two dots\r\n" + new string('x', 990) + "\r\ntrailing space   \r\n\u00e9t\u00e9 8-bit\r\n\r\n\r\n";
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var stuffed = body.Replace("\r\n.", "\r\n..");
            await c.SendAsync(Encoding.UTF8.GetBytes(stuffed + ".\r\n"));
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
        }
        var received = Assert.Single(upstream.Messages);
        Assert.Equal(Encoding.UTF8.GetBytes(body), Mail.WithoutReceived(received.Data));
    }

    [Fact]
    public async Task Unstuffs_a_first_line_starting_with_two_dots()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("..X-First: dot\r\n\r\nbody\r\n."));
        }
        Assert.Equal(".X-First: dot\r\n\r\nbody\r\n", Encoding.ASCII.GetString(Mail.WithoutReceived(upstream.Messages[0].Data)));
    }

    [Fact]
    public async Task An_empty_message_is_answered_at_once()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("."));
            Assert.StartsWith("221 2.0.0", await c.CommandAsync("QUIT"));
        }
        Assert.Empty(Mail.WithoutReceived(Assert.Single(upstream.Messages).Data));
    }

    [Fact]
    public async Task Reuses_the_upstream_connection_for_following_messages()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        for (var i = 0; i < 3; i++)
            await Mail.SendAsync(gateway.Port, Mail.Message($"m{i}"));
        Assert.Equal(3, upstream.Messages.Count);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Advertises_the_extensions_and_no_software_version()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_message_size: 10MB\n");
        var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("220 mx.test.example ESMTP", greeting);
            var ehlo = (await c.CommandAsync("EHLO client.test")).Split('\n');
            Assert.Equal("250-mx.test.example Hello client.test [127.0.0.1]", ehlo[0]);
            var extensions = ehlo.Skip(1).Select(l => l[4..]).ToList();
            Assert.Contains("SIZE 10485760", extensions);
            Assert.Contains("PIPELINING", extensions);
            Assert.Contains("8BITMIME", extensions);
            Assert.Contains("SMTPUTF8", extensions);
            Assert.Contains("ENHANCEDSTATUSCODES", extensions);
            Assert.DoesNotContain("STARTTLS", extensions);
            Assert.DoesNotContain(extensions, e => e.StartsWith("AUTH", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Answers_bad_syntax_with_enhanced_codes()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_errors: 50\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("500 5.5.2 Command not recognized", await c.CommandAsync("HACK the planet"));
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("MAIL FROM:<a@b.test>"));
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("501 5.5.4", await c.CommandAsync("MAIL TO:<a@b.test>"));
            Assert.StartsWith("501 5.1.7", await c.CommandAsync("MAIL FROM:a@b.test"));
            Assert.StartsWith("501 5.5.4", await c.CommandAsync("HELO"));
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("DATA"));
            Assert.StartsWith("502 5.5.1", await c.CommandAsync("AUTH PLAIN AGFAYg=="));
            Assert.StartsWith("500 5.5.2", await c.CommandAsync("NO\u0001OP"));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
            Assert.StartsWith("250 2.1.0", await c.CommandAsync("MAIL FROM:<a@b.test>"));
            Assert.StartsWith("501 5.1.3", await c.CommandAsync("RCPT TO:<bob@@example.test>"));
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("DATA"));
        }
    }

    [Fact]
    public async Task Writes_to_a_directory_when_configured_so()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var reply = await Mail.SendAsync(gateway.Port, Mail.Message());
        Assert.StartsWith("2.0.0 Ok: stored as ", reply);
        var dir = Path.Combine(gateway.Directory, "delivered");
        var eml = Assert.Single(Directory.GetFiles(dir, "*.eml"));
        Assert.StartsWith("Received: from client.test", File.ReadAllText(eml));
        var json = File.ReadAllText(Path.ChangeExtension(eml, ".json"));
        Assert.Contains("\"mail_from\": \"alice@sender.test\"", json);
        Assert.Contains("\"bob@example.test\"", json);
    }

    [Fact]
    public async Task Internationalised_addresses_go_through_with_smtputf8()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<jürgen@bücher.test> SMTPUTF8"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("From: jürgen@bücher.test\r\nSubject: grüße\r\n\r\nhallo\r\n."));
        }
        var message = Assert.Single(upstream.Messages);
        Assert.Equal("jürgen@bücher.test", message.MailFrom);
        Assert.Contains("Subject: grüße", message.Text);
        Assert.Contains("with UTF8SMTP", message.Text);
    }
}
