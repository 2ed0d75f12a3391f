using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Support;
using MailKit.Net.Smtp;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.EndToEnd;

/// <summary>SPF, DKIM and DMARC over SMTP, with the gateway asking a real DNS server on loopback.</summary>
public sealed class AuthenticationTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();
    private readonly RSA _key = RSA.Create(2048);

    public AuthenticationTests()
    {
        _dns.Txt("s1._domainkey.sender.test", "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(_key.ExportSubjectPublicKeyInfo()))
            .Txt("_dmarc.sender.test", "v=DMARC1; p=reject")
            .A("sender.test", "192.0.2.10");
    }

    private string Yaml(string dataFilters, string mailFromFilters = "", IPEndPoint? dns = null) => $"""
        dns: {"{"} servers: ["{dns ?? _dns.EndPoint}"], timeout: 500ms, retries: 0 {"}"}
        quarantine: {"{"} directory: quarantine {"}"}
        pipeline:
          mail_from: [{mailFromFilters}]
          data: [{dataFilters}]
        """;

    private MimeMessage Signed(string from = "alice@sender.test", string body = "Hello Bob.\r\n")
    {
        var message = Mail.Message(from: from, body: body);
        message.Prepare(EncodingConstraint.SevenBit);
        var signer = new DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(_key.ExportPkcs8PrivateKeyPem())), "sender.test", "s1")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.MessageId]);
        return message;
    }

    private static string AuthenticationResults(ReceivedMessage received)
    {
        var forwarded = MimeMessage.Load(new MemoryStream(received.Data));
        var results = forwarded.Headers.Where(h => h.Field == "Authentication-Results").ToList();
        return Assert.Single(results).Value;
    }

    [Fact]
    public async Task Spf_dkim_and_dmarc_pass_and_say_so_in_one_authentication_results_header()
    {
        _dns.Txt("sender.test", "v=spf1 ip4:127.0.0.0/8 -all");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: spf }, { type: dkim }, { type: dmarc }"), upstream);
        var message = Signed();
        // A forged result claiming our authserv-id (unsigned, so the signature still holds once it is removed).
        message.Headers.Insert(0, new Header("Authentication-Results", "mx.test.example; dmarc=pass header.from=bank.test"));

        await Mail.SendAsync(gateway.Port, message);

        var results = AuthenticationResults(Assert.Single(upstream.Messages));
        Assert.StartsWith("mx.test.example;", results);
        Assert.Contains("spf=pass smtp.mailfrom=alice@sender.test", results);
        Assert.Contains("dkim=pass header.d=sender.test", results);
        Assert.Contains("dmarc=pass header.from=sender.test", results);
        Assert.DoesNotContain("bank.test", results);
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("auth=\"spf=pass") && l.Contains("dkim=pass dmarc=pass\"") && !l.Contains("dns=0 "));
    }

    [Fact]
    public async Task A_bounce_from_a_reject_domain_passes_dmarc_through_its_helo_name()
    {
        // The sender's own domain has no SPF pass for us; its outbound host's HELO name does, and aligns (relaxed).
        _dns.Txt("sender.test", "v=spf1 -all").Txt("mta.sender.test", "v=spf1 ip4:127.0.0.0/8 -all");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: spf }, { type: dmarc }"), upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO mta.sender.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync(
                "From: Mail Delivery System <mailer-daemon@sender.test>\r\nTo: bob@example.test\r\nSubject: Undelivered Mail\r\n\r\nSorry.\r\n."));
        }

        var results = AuthenticationResults(Assert.Single(upstream.Messages));
        Assert.Contains("spf=pass smtp.mailfrom=postmaster@mta.sender.test", results);
        Assert.Contains("dmarc=pass header.from=sender.test", results);
    }

    [Fact]
    public async Task An_spf_fail_is_refused_at_mail_from_when_the_filter_says_so()
    {
        _dns.Txt("sender.test", "v=spf1 ip4:192.0.2.0/24 -all");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("", "{ type: spf, reject_fail: true }"), upstream);

        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(gateway.Port, Mail.Message()));

        Assert.Equal(550, (int)e.StatusCode);
        Assert.Contains("5.7.23", e.Message + string.Join("\n", gateway.Logs.Lines));
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task A_tampered_message_fails_dkim_and_the_dmarc_reject_policy_refuses_it()
    {
        _dns.Txt("sender.test", "v=spf1 ip4:192.0.2.0/24 -all");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: spf }, { type: dkim }, { type: dmarc }"), upstream);
        var message = Signed();
        ((TextPart)message.Body!).Text = "Send the money to account 666.\r\n";

        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(gateway.Port, message));

        Assert.Equal(550, (int)e.StatusCode);
        Assert.Contains("DMARC policy of sender.test", e.Message);
        Assert.Empty(upstream.Messages);
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("dkim=fail") && l.Contains("dmarc=fail") && l.Contains("by=dmarc"));
    }

    [Fact]
    public async Task The_same_message_signed_and_untampered_passes_dmarc_on_dkim_alone()
    {
        _dns.Txt("sender.test", "v=spf1 ip4:192.0.2.0/24 -all");
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: spf }, { type: dkim }, { type: dmarc }"), upstream);

        await Mail.SendAsync(gateway.Port, Signed());

        var results = AuthenticationResults(Assert.Single(upstream.Messages));
        Assert.Contains("spf=fail", results);
        Assert.Contains("dmarc=pass", results);
    }

    [Fact]
    public async Task A_resolver_that_never_answers_defers_the_message_with_451()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml("{ type: spf }, { type: dkim }, { type: dmarc }", dns: (IPEndPoint)silent.LocalEndPoint!), upstream);

        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(gateway.Port, Signed()));

        Assert.Equal(451, (int)e.StatusCode);
        Assert.Contains("4.4.3", e.Message + string.Join("\n", gateway.Logs.Lines));
        Assert.Empty(upstream.Messages);
    }

    public void Dispose()
    {
        _dns.Dispose();
        _key.Dispose();
    }
}
