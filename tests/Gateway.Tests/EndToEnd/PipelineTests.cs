using Gateway.Tests.Support;
using MailKit.Net.Smtp;

namespace Gateway.Tests.EndToEnd;

/// <summary>Filters at each phase, over SMTP: what the client hears, what the upstream gets, what the log says.</summary>
public class PipelineTests
{
    private static void BlockLoopback(string dir) => File.WriteAllText(Path.Combine(dir, "blocked.txt"), "# local block list\n10.0.0.0/8\n127.0.0.1  # us, for the test\n");

    [Fact]
    public async Task A_connect_rejection_waits_for_rcpt_and_names_the_filter()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  connect:\n    - { type: client_list, name: local-blocklist, file: blocked.txt, action: reject }\n", upstream, prepareDirectory: BlockLoopback);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.Equal("554 5.7.1 Access denied to your address (local-blocklist)", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        }
        Assert.Equal(0, upstream.Connections);
    }

    [Fact]
    public async Task Without_delay_a_connect_rejection_closes_at_once()
    {
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  delay_reject: false\n  connect:\n    - { type: client_list, file: blocked.txt }\n", prepareDirectory: BlockLoopback);
        var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("554 5.7.1 Access denied to your address (client_list)", greeting);
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task An_allow_list_accept_skips_the_rest_of_the_phase()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  connect:\n    - { type: client_list, name: allow, file: blocked.txt, action: accept }\n    - { type: client_list, name: block, file: blocked.txt, action: reject }\n",
            upstream, prepareDirectory: BlockLoopback);
        await Mail.SendAsync(gateway.Port, Mail.Message());
        Assert.Single(upstream.Messages);
    }

    [Fact]
    public async Task Scores_over_the_header_threshold_add_score_and_symbol_headers()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  helo:\n    - { type: client_list, name: suspicious, file: blocked.txt, action: score, score: 6 }\n"
            + "policy:\n  thresholds: { add_header: 5, reject: 10 }\n", upstream, prepareDirectory: BlockLoopback);
        await Mail.SendAsync(gateway.Port, Mail.Message());
        var text = Assert.Single(upstream.Messages).Text;
        Assert.Contains("\r\nX-Gateway-Score: 6\r\nX-Gateway-Symbols: SUSPICIOUS(6: client 127.0.0.1 listed)\r\n", text);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=delivered by=upstream", line);
        Assert.Contains("score=6 symbols=\"SUSPICIOUS(6: client 127.0.0.1 listed)\" rules=none", line);
    }

    [Fact]
    public async Task A_score_over_the_rewrite_threshold_marks_the_subject()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  connect:\n    - { type: client_list, name: grey, file: blocked.txt, action: score, score: 7 }\n"
            + "policy:\n  thresholds: { rewrite_subject: 6 }\n  subject_prefix: \"[SUSPECT] \"\n", upstream, prepareDirectory: BlockLoopback);
        await Mail.SendAsync(gateway.Port, Mail.Message(subject: "quarterly numbers"));
        Assert.Contains("\r\nSubject: [SUSPECT] quarterly numbers\r\n", Assert.Single(upstream.Messages).Text);
    }

    [Fact]
    public async Task Score_headers_sent_by_the_client_never_reach_the_upstream()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("policy:\n  thresholds: { add_header: 5 }\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("X-Gateway-Score: -50\r\nX-Gateway-Symbols: TRUSTED_BY_GATEWAY\r\nSubject: forged\r\n\r\nx\r\n."));
        }
        var text = Assert.Single(upstream.Messages).Text;
        Assert.DoesNotContain("X-Gateway", text);
        Assert.Contains("Subject: forged\r\n\r\nx\r\n", text);
    }

    [Fact]
    public async Task A_score_over_the_reject_threshold_refuses_the_message()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "pipeline:\n  mail_from:\n    - { type: client_list, name: bad, file: blocked.txt, action: score, score: 12 }\n"
            + "policy:\n  thresholds: { reject: 10 }\n", upstream, prepareDirectory: BlockLoopback);
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(gateway.Port, Mail.Message()));
        Assert.Equal(554, (int)e.StatusCode);
        Assert.Equal("5.7.1 Message refused by policy (score 12 reaches 10)", Refs.Strip(e.Message));
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=rejected by=score", line);
        // The refusal names the transaction the log line (and the tracking store) records.
        Assert.Contains($"transaction id={Refs.Of(e.Message)} ", line);
    }

    [Fact]
    public async Task A_data_filter_refuses_a_mail_loop()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("pipeline:\n  data:\n    - { type: max_received, max: 3 }\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var hops = string.Concat(Enumerable.Range(1, 4).Select(i => $"Received: from hop{i}.test by hop{i + 1}.test; Sat, 28 Nov 2026 10:00:00 +0000\r\n"));
            Assert.Equal("554 5.4.6 Too many hops (4 Received headers), mail loop? (max_received)", await c.CommandAsync(hops + "Subject: loop\r\n\r\nx\r\n."));
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync(hops[..(hops.Length / 2)] + "Subject: fine\r\n\r\nx\r\n."));
        }
        Assert.Contains("Subject: fine", Assert.Single(upstream.Messages).Text);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=rejected"));
        Assert.Contains("by=max_received", line);
        Assert.Contains("symbols=\"MAIL_LOOP(0: 4 Received headers)\"", line);
    }
}
