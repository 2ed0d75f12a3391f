using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// One private Postfix for the milter tests, with two gateways as its milters: every client of 127.0.0.0/8 goes
/// through the gateway whose quarantine is its own; 127.0.0.4 through one that quarantines into Postfix's hold queue;
/// 127.0.0.3 through a milter address where nothing listens. Postfix relays what it accepts to a scripted upstream.
/// </summary>
public sealed class PostfixMilterFixture : IAsyncLifetime
{
    public const string Rules = """
        rules:
          - id: no-mallory
            match: { rcpt_to: { exact: mallory@example.test } }
            action: reject
            reply: "550 5.7.1 Mallory takes no mail here"
          - id: no-lottery
            match: { subject: { regex: lottery } }
            action: reject
            reply: "550 5.7.1 Lottery mail is not welcome (100% sure)"
          - id: hold-invoices
            match: { subject: { regex: invoice } }
            action: quarantine
        """;

    public TestDnsServer Dns { get; } = TestDnsServer.Start();

    public System.Security.Cryptography.RSA DkimKey { get; } = System.Security.Cryptography.RSA.Create(2048);

    public FakeUpstream Upstream { get; } = new();

    public GatewayHost Gateway { get; private set; } = null!;

    public GatewayHost HoldingGateway { get; private set; } = null!;

    public PostfixServer Postfix { get; private set; } = null!;

    private Task<GatewayHost> StartGatewayAsync(string milter) => GatewayHost.StartAsync($$"""
        dns: { servers: ["{{Dns.EndPoint}}"], timeout: 500ms, retries: 0 }
        quarantine: { directory: quarantine }
        rules: { files: [r.yaml] }
        pipeline:
          mail_from: [{ type: spf }]
          data: [{ type: dkim }, { type: dmarc }]
        milter: { {{milter}} }
        """, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "r.yaml"), Rules));

    public async Task InitializeAsync()
    {
        Dns.Txt("good.test", "v=spf1 ip4:127.0.0.0/8 -all").Txt("_dmarc.good.test", "v=DMARC1; p=reject")
            .Txt("bad.test", "v=spf1 ip4:192.0.2.0/24 -all").Txt("_dmarc.bad.test", "v=DMARC1; p=reject")
            .Txt("s1._domainkey.good.test", "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(DkimKey.ExportSubjectPublicKeyInfo()));
        Gateway = await StartGatewayAsync("listen: [\"127.0.0.1:0\"]");
        HoldingGateway = await StartGatewayAsync("listen: [\"127.0.0.1:0\"], quarantine: mta");
        var nobody = new TcpListener(IPAddress.Loopback, 0);
        nobody.Start();
        var deadPort = ((IPEndPoint)nobody.LocalEndpoint).Port;
        nobody.Stop();
        var milter = $"inet:{Gateway.Server.MilterEndpoints[0].Tcp}";
        var holding = $"inet:{HoldingGateway.Server.MilterEndpoints[0].Tcp}";
        Postfix = await Task.Run(() => PostfixServer.Start(Upstream.HostPort, milter, new Dictionary<string, string>
        {
            ["127.0.0.3/32"] = $"inet:127.0.0.1:{deadPort}",
            ["127.0.0.4/32"] = holding,
        }));
    }

    public async Task DisposeAsync()
    {
        Postfix?.Dispose();
        if (Gateway is not null)
            await Gateway.DisposeAsync();
        if (HoldingGateway is not null)
            await HoldingGateway.DisposeAsync();
        await Upstream.DisposeAsync();
        Dns.Dispose();
        DkimKey.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PostfixMilterCollection : ICollectionFixture<PostfixMilterFixture>
{
    public const string Name = "postfix-milter";
}

/// <summary>The gateway as the milter of a real Postfix: verdicts and headers reach the client and the next hop through the MTA.</summary>
[Collection(PostfixMilterCollection.Name)]
public sealed class PostfixMilterTests(PostfixMilterFixture fixture)
{
    private static MimeMessage Message(string subject, string from = "alice@good.test", string to = "bob@example.test")
    {
        var message = Mail.Message(subject, from, to, $"Hello Bob. {Guid.NewGuid():N}\r\n");
        return message;
    }

    /// <summary>Sends through Postfix from <paramref name="client"/>; returns Postfix's final reply, throws its refusals.</summary>
    private async Task<string> SendAsync(MimeMessage message, string client = "127.0.0.1", params string[] to)
    {
        using var smtp = new SmtpClient { LocalDomain = "client.test", LocalEndPoint = new IPEndPoint(IPAddress.Parse(client), 0) };
        await smtp.ConnectAsync("127.0.0.1", fixture.Postfix.Port, MailKit.Security.SecureSocketOptions.None);
        var recipients = (to.Length > 0 ? to : message.To.Mailboxes.Select(m => m.Address)).Select(MailboxAddress.Parse).ToList();
        var reply = await smtp.SendAsync(message, message.From.Mailboxes.First(), recipients);
        await smtp.DisconnectAsync(true);
        return reply;
    }

    private static string Marker(MimeMessage message) => ((TextPart)message.Body!).Text.Trim();

    [Fact]
    public async Task An_accepted_message_reaches_the_next_hop_with_our_authentication_results_on_top_and_no_forged_one()
    {
        var message = Message("hello");
        message.Headers.Insert(0, new Header("Authentication-Results", "mx.test.example; dmarc=pass (forged by the sender)"));
        var reply = await SendAsync(message);
        Assert.StartsWith("2.0.0 Ok: queued as", reply);

        var received = await fixture.Upstream.WaitForAsync(m => m.Text.Contains(Marker(message)));
        Assert.StartsWith("Authentication-Results: mx.test.example;", received.Text);
        var delivered = MimeMessage.Load(new MemoryStream(received.Data));
        var results = Assert.Single(delivered.Headers, h => h.Field == "Authentication-Results");
        Assert.Contains("spf=pass", results.Value);
        Assert.Contains("dmarc=pass", results.Value);
        Assert.DoesNotContain("forged", received.Text);
        Assert.Equal("Received", delivered.Headers[1].Field); // Postfix's own, below ours
        Assert.Contains("by mta.test (Postfix)", delivered.Headers[1].Value);
        Assert.Equal("alice@good.test", received.MailFrom);

        var line = await fixture.Gateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("outcome=delivered"));
        var queueId = reply.Split(' ')[^1];
        Assert.Contains($"queue_id={queueId}", line);
    }

    [Fact]
    public async Task The_message_the_gateway_judges_is_byte_for_byte_the_one_postfix_received_so_a_simple_dkim_signature_holds()
    {
        // simple/simple: any change to a signed header's bytes (its space after the colon, a folded line's CRLF) breaks it.
        var message = Message("A subject long enough to be folded by the signer's formatting of the header, twice over, " +
            "so that Postfix sends it with LF-separated continuation lines");
        message.Headers.Add("X-Tabbed", "\tvalue after a tab");
        message.Prepare(EncodingConstraint.SevenBit);
        var signer = new MimeKit.Cryptography.DkimSigner(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(fixture.DkimKey.ExportPkcs8PrivateKeyPem())), "good.test", "s1")
        {
            HeaderCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Simple,
            BodyCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Simple,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.MessageId, HeaderId.Date]);
        Assert.StartsWith("2.0.0 Ok", await SendAsync(message));

        var received = await fixture.Upstream.WaitForAsync(m => m.Text.Contains(Marker(message)));
        var results = MimeMessage.Load(new MemoryStream(received.Data)).Headers["Authentication-Results"];
        Assert.Contains("dkim=pass", results);
        Assert.Contains("header.d=good.test", results);
    }

    [Fact]
    public async Task A_rule_refusal_reaches_the_client_as_postfixs_reply_with_our_text()
    {
        var atRcpt = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(Message("hello", to: "mallory@example.test")));
        Assert.Equal(550, (int)atRcpt.StatusCode);
        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, atRcpt.ErrorCode);
        Assert.Contains("Mallory takes no mail here", atRcpt.Message);
        Assert.NotNull(Refs.Of(atRcpt.Message)); // our [ref ID] passes through Postfix to the client

        var atData = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(Message("you won the lottery")));
        Assert.Equal(550, (int)atData.StatusCode);
        Assert.Equal(SmtpErrorCode.MessageNotAccepted, atData.ErrorCode);
        Assert.Contains("Lottery mail is not welcome (100% sure)", atData.Message); // one '%', as Postfix reads our doubled one
    }

    [Fact]
    public async Task A_dmarc_reject_policy_failure_is_refused()
    {
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(Message("hello", from: "mallory@bad.test")));
        Assert.Equal(550, (int)refused.StatusCode);
        Assert.Contains("DMARC policy of bad.test", refused.Message);
        Assert.Contains("by=dmarc", await fixture.Gateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("mallory@bad.test")));
    }

    [Fact]
    public async Task A_quarantined_message_is_kept_by_the_gateway_and_dropped_by_postfix_or_held_in_postfixs_hold_queue()
    {
        var invoice = Message("your invoice");
        Assert.StartsWith("2.0.0 Ok", await SendAsync(invoice));
        var line = await fixture.Gateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("outcome=quarantined"));
        var id = line.Split("quarantined as ")[1].Split(';')[0];
        Assert.Contains(Marker(invoice), File.ReadAllText(Path.Combine(fixture.Gateway.Directory, "quarantine", id + ".eml")));

        var held = Message("another invoice");
        Assert.StartsWith("2.0.0 Ok", await SendAsync(held, client: "127.0.0.4"));
        Assert.Contains("held in the MTA's hold queue", await fixture.HoldingGateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("outcome=quarantined")));
        Assert.NotEmpty(fixture.Postfix.Held);

        // Mail sent after them arrives; they never do (Postfix dropped the first and holds the second).
        var after = Message("hello again");
        await SendAsync(after);
        await fixture.Upstream.WaitForAsync(m => m.Text.Contains(Marker(after)));
        Assert.DoesNotContain(fixture.Upstream.Messages, m => m.Text.Contains(Marker(invoice)) || m.Text.Contains(Marker(held)));
    }

    [Fact]
    public async Task With_the_milter_down_the_client_gets_a_4xx()
    {
        var message = Message("hello");
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message, client: "127.0.0.3"));
        Assert.InRange((int)refused.StatusCode, 400, 499);
        Assert.Contains("4.7.1 Service unavailable - try again later", refused.Message); // milter_default_action = tempfail
    }
}
