using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using Gateway.Tracking;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// upstream.recipients: realtime (the default): each recipient goes upstream as the client names it, the upstream's
/// reply is the client's, and the message reaches the recipients both sides accepted.
/// </summary>
public class RealtimeRelayTests
{
    [Theory]
    [InlineData("550 5.1.1 <nobody@example.test>: user unknown", "550 5.1.1 <nobody@example.test>: user unknown")]
    [InlineData("452 4.2.2 Mailbox full\u0007", "452 4.2.2 Mailbox full")]
    [InlineData("421 4.3.2 Shutting down", "451 4.3.2 Shutting down")]
    public async Task A_recipient_refused_upstream_hears_it_at_rcpt_and_the_others_get_the_message(string upstreamReply, string clientReply)
    {
        await using var upstream = new FakeUpstream { RcptReply = r => r.StartsWith("nobody", StringComparison.Ordinal) ? upstreamReply : null };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var records = new RecordProbe();
        gateway.Server.Transactions.Add(records);
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.Equal(clientReply, await c.CommandAsync("RCPT TO:<nobody@example.test>"));
        var closing = upstreamReply.StartsWith("421", StringComparison.Ordinal);
        if (closing)
        {
            // The upstream closed on us: the transaction is gone there, so every later recipient and the message wait.
            Assert.Equal(clientReply, await c.CommandAsync("RCPT TO:<carol@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("451 4.4.1", await c.CommandAsync("Subject: hi\r\n\r\nHello.\r\n."));
            Assert.Empty(upstream.Messages);
            return;
        }
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<carol@example.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.Equal("250 2.0.0 Ok: queued as TEST", await c.CommandAsync("Subject: hi\r\n\r\nHello.\r\n."));

        var message = Assert.Single(upstream.Messages);
        Assert.Equal(["bob@example.test", "carol@example.test"], message.RcptTo);
        Assert.Contains("Hello.", message.Text);
        var record = await records.NextAsync();
        Assert.Equal(TransactionOutcome.Delivered, record.Outcome);
        var refused = Assert.Single(record.Recipients, r => !r.Accepted);
        Assert.Equal(("nobody@example.test", "upstream", clientReply), (refused.Address, refused.RefusedBy, refused.Reply.ToString()));
        Assert.Equal(2, record.Recipients.Count(r => r.Accepted && r.Outcome == TransactionOutcome.Delivered));
    }

    [Fact]
    public async Task Upstream_down_at_rcpt_is_a_451_4_4_1_for_the_recipient()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"127.0.0.1:{port}\"]\n  tls: none\n");
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.Equal("451 4.4.1 Upstream server unavailable, try again later", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.Equal("451 4.4.1 Upstream server unavailable, try again later", await c.CommandAsync("RCPT TO:<carol@example.test>"));
        await gateway.Logs.WaitForAsync(l => l.Contains($"upstream 127.0.0.1:{port} unavailable: Connection refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_upstreams_refusal_of_the_sender_is_the_reply_to_every_rcpt_of_the_transaction()
    {
        var refuse = true;
        await using var upstream = new FakeUpstream { MailReply = _ => Volatile.Read(ref refuse) ? "550 5.7.1 Sender blocked" : null };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.Equal("550 5.7.1 Sender blocked", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.Equal("550 5.7.1 Sender blocked", await c.CommandAsync("RCPT TO:<carol@example.test>"));
        Assert.Single(upstream.MailLines); // asked once per transaction

        Volatile.Write(ref refuse, false);
        Assert.StartsWith("250", await c.CommandAsync("RSET"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250", await c.CommandAsync("Subject: hello\r\n\r\nHi.\r\n."));
        Assert.Single(upstream.Messages);
        Assert.Equal(1, upstream.Connections); // the refusal left the connection clean, in the pool
    }

    [Fact]
    public async Task A_data_filter_refusal_resets_the_upstream_which_serves_the_next_message()
    {
        const string rules = """
            rules:
              - id: no-lottery
                match: { subject: { regex: "lottery" } }
                action: reject
                reply: "550 5.7.1 Lottery mail is not welcome here"
            """;
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("rules:\n  files: [\"rules/test.yaml\"]\n", upstream, prepareDirectory: dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "rules"));
            File.WriteAllText(Path.Combine(dir, "rules", "test.yaml"), rules);
        });
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        await Mail.BeginDataAsync(c);
        Assert.Equal("550 5.7.1 Lottery mail is not welcome here", await c.CommandAsync("Subject: you won the lottery\r\n\r\nClaim it.\r\n."));
        await upstream.WaitForResetAsync();
        await gateway.Logs.WaitForAsync(ResetIntoThePool); // the gateway read the RSET's reply and pooled the connection
        Assert.Empty(upstream.Messages);

        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250", await c.CommandAsync("Subject: hello\r\n\r\nHi.\r\n."));
        Assert.Single(upstream.Messages);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task A_client_leaving_mid_transaction_delivers_nothing_and_resets_the_upstream()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        await using (var c = await RawSmtpClient.ConnectAsync(gateway.Port))
        {
            await c.ReadReplyAsync();
            await Mail.BeginDataAsync(c, "<alice@sender.test>", "<bob@example.test>", "<carol@example.test>");
            await c.SendAsync("Subject: half\r\n\r\nThe first half of");
        }
        await upstream.WaitForResetAsync();
        await gateway.Logs.WaitForAsync(ResetIntoThePool); // the gateway read the RSET's reply and pooled the connection
        Assert.Empty(upstream.Messages);
        Assert.Equal("2.0.0 Ok: queued as TEST", await Mail.SendAsync(gateway.Port, Mail.Message()));
        Assert.Single(upstream.Messages);
        Assert.Equal(1, upstream.Connections); // the reset connection went back to the pool
    }

    [Fact]
    public async Task Rset_resets_the_upstream_transaction()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RSET"));
        await upstream.WaitForResetAsync();
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<carol@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<dave@example.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250", await c.CommandAsync("Subject: hello\r\n\r\nHi.\r\n."));
        var message = Assert.Single(upstream.Messages);
        Assert.Equal(("carol@sender.test", "dave@example.test"), (message.MailFrom, Assert.Single(message.RcptTo)));
    }

    [Fact]
    public async Task The_clients_mail_parameters_go_upstream_when_offered_and_bdat_carries_the_same_bytes()
    {
        var body = "Subject: dots\r\n\r\n.leading dot\r\n..two\r\nend";
        await using var data = new FakeUpstream();
        await using var chunking = new FakeUpstream { Chunking = true };
        foreach (var upstream in new[] { data, chunking })
        {
            await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
            await using var c = await RawSmtpClient.ConnectAsync(gateway.Port);
            await c.ReadReplyAsync();
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test> SIZE=100 BODY=8BITMIME"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync(body.Replace("\r\n.", "\r\n..", StringComparison.Ordinal) + "\r\n."));
            Assert.Equal("MAIL FROM:<alice@sender.test> SIZE=100 BODY=8BITMIME", Assert.Single(upstream.MailLines));
        }
        Assert.Equal(0, data.BdatMessages);
        Assert.Equal(1, chunking.BdatMessages);
        var viaData = Mail.WithoutReceived(Assert.Single(data.Messages).Data);
        Assert.Equal(viaData, Mail.WithoutReceived(Assert.Single(chunking.Messages).Data));
        Assert.EndsWith("\r\n.leading dot\r\n..two\r\nend\r\n", System.Text.Encoding.UTF8.GetString(viaData));
    }

    private static bool ResetIntoThePool(string line) => line.Contains("reset; connection back in the pool", StringComparison.Ordinal);
}
