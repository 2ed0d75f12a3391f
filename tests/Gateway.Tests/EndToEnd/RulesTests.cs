using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Rules over SMTP: each action, monitor mode, and a regex that runs out of time.</summary>
public class RulesTests
{
    private const string Rules = """
        rules:
          - id: no-lottery
            description: lottery scams
            match: { subject: { regex: "lottery|you have won" } }
            action: reject
            reply: "550 5.7.1 Lottery mail is not welcome here"
          - id: watch-casino
            mode: monitor
            match: { subject: { glob: "*casino*" } }
            action: reject
          - id: ceo-only-internal
            match: { all: [ { rcpt_to: { exact: ceo@example.test } }, { not: { mail_from: { domain: example.test } } } ] }
            action: tempfail
          - id: bulk
            match: { header: { name: Precedence, regex: "^bulk$" } }
            score: 3
          - id: evil
            match: { header: { name: X-Evil, regex: "^(a+)+\\1b$" } }
            action: reject
        """;

    private static Task<GatewayHost> StartAsync(FakeUpstream upstream) => GatewayHost.StartAsync(
        "rules:\n  files: [\"rules/*.yaml\"]\npolicy:\n  thresholds: { add_header: 1 }\n", upstream,
        prepareDirectory: dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "rules"));
            File.WriteAllText(Path.Combine(dir, "rules", "test.yaml"), Rules);
        });

    private static async Task<string> SendAsync(GatewayHost gateway, string headers, string rcpt = "<bob@example.test>")
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            var rcptReply = await c.CommandAsync($"RCPT TO:{rcpt}");
            if (!rcptReply.StartsWith("250", StringComparison.Ordinal))
                return rcptReply;
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            return await c.CommandAsync(headers + "\r\n\r\nbody\r\n.");
        }
    }

    [Fact]
    public async Task A_rule_rejects_with_its_own_reply_and_the_log_names_it()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.Equal("550 5.7.1 Lottery mail is not welcome here", await SendAsync(gateway, "Subject: You have WON the lottery"));
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=rejected"));
        Assert.Contains("outcome=rejected by=rule:no-lottery", line);
        Assert.Contains("symbols=\"no-lottery(0: subject 'You have WON the lottery' matches regex lottery|you have won)\" rules=", line);
        Assert.Matches("rules=[0-9a-f]{12} ", line);
    }

    [Fact]
    public async Task A_monitor_rule_changes_nothing_but_says_what_it_would_have_done()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.StartsWith("250", await SendAsync(gateway, "Subject: Online casino bonus"));
        Assert.Single(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=delivered"));
        Assert.Contains("watch-casino(0: monitor: would reject: subject 'Online casino bonus' matches glob *casino*)", line);
    }

    [Fact]
    public async Task A_recipient_rule_decides_per_recipient()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.Equal("451 4.7.1 Try again later (rule:ceo-only-internal)", await SendAsync(gateway, "Subject: hi", "<ceo@example.test>"));
        Assert.StartsWith("250", await SendAsync(gateway, "Subject: hi"));
    }

    [Fact]
    public async Task Scores_add_headers_and_a_regex_that_runs_out_of_time_tempfails()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.StartsWith("250", await SendAsync(gateway, "Subject: news\r\nPrecedence: bulk"));
        Assert.Contains("X-Gateway-Score: 3\r\nX-Gateway-Symbols: bulk(3: Precedence: 'bulk' matches regex ^bulk$)\r\n", Assert.Single(upstream.Messages).Text);

        Assert.Equal("451 4.3.0 Temporary failure in filter rules, try again later", await SendAsync(gateway, "Subject: x\r\nX-Evil: " + new string('a', 3000) + "!"));
        var warning = await gateway.Logs.WaitForAsync(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("filter rules failed"));
        Assert.Contains("RegexMatchTimeoutException", warning);
    }

    [Theory]
    [InlineData("Subject: no author", "550 5.7.1 Message has no From header")]
    [InlineData("From: a@sender.test\r\nFrom: b@sender.test\r\nSubject: two authors", "550 5.7.1 Message has more than one From header")]
    [InlineData("From: a@sender.test\r\nSubject: fine", "250 2.0.0 Ok: queued as TEST")]
    public async Task The_shipped_rules_refuse_messages_without_exactly_one_from_header(string headers, string expected)
    {
        await using var upstream = new FakeUpstream();
        var shipped = Path.Combine(RepoRoot.Find(), "rules", "headers.yaml");
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{shipped}\"]\n", upstream);
        Assert.Equal(expected, await SendAsync(gateway, headers));
    }

    [Theory]
    [InlineData("tool.exe", "application/octet-stream", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("invoice.pdf.exe", "application/pdf", "554 5.7.1 Attachment with a disguised executable extension refused")]
    [InlineData("harmless.txt", "text/plain", "250 2.0.0 Ok: queued as TEST")]
    [InlineData("bundle.zip", "application/zip", "554 5.7.1 Executable attachments are not accepted")]
    public async Task The_shipped_attachment_rules_refuse_executables_also_inside_zips(string name, string type, string expected)
    {
        await using var upstream = new FakeUpstream();
        var shipped = Path.Combine(RepoRoot.Find(), "rules", "attachments.yaml");
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{shipped}\"]\n", upstream);
        byte[] content = name.EndsWith(".zip", StringComparison.Ordinal)
            ? ZipOf("setup.js", "WScript.Echo(1)"u8.ToArray())
            : name.EndsWith(".txt", StringComparison.Ordinal) ? "hello"u8.ToArray() : [.. "MZ"u8, .. new byte[100]];
        var builder = new MimeKit.BodyBuilder { TextBody = "see attached" };
        builder.Attachments.Add(name, content, MimeKit.ContentType.Parse(type));
        var message = Mail.Message();
        message.Body = builder.ToMessageBody();
        var reply = "";
        try
        {
            reply = "250 " + await Mail.SendAsync(gateway.Port, message);
        }
        catch (MailKit.Net.Smtp.SmtpCommandException e)
        {
            reply = $"{(int)e.StatusCode} {Refs.Strip(e.Message)}";
        }
        Assert.Equal(expected, reply);
    }

    private static byte[] ZipOf(string name, byte[] content)
    {
        using var ms = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(ms, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        using (var s = zip.CreateEntry(name).Open())
            s.Write(content);
        return ms.ToArray();
    }

    [Fact]
    public async Task Discard_answers_250_and_drops_and_disconnect_closes_the_session()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("rules:\n  files: [\"r.yaml\"]\n", upstream, prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "r.yaml"), """
            rules:
              - id: drop-newsletters
                match: { subject: { regex: newsletter } }
                action: discard
              - id: hang-up
                match: { mail_from: { domain: abuse.test } }
                action: disconnect
                reply: "421 4.7.0 Goodbye"
            """));
        Assert.Equal("250 2.0.0 Ok", await SendAsync(gateway, "From: a@sender.test\r\nSubject: weekly newsletter"));
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("by=rule:drop-newsletters", line);
        Assert.Contains("upstream=\"discarded\"", line);

        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.Equal("421 4.7.0 Goodbye", await c.CommandAsync("MAIL FROM:<x@abuse.test>"));
            Assert.True(await c.IsClosedAsync());
        }
    }
}
