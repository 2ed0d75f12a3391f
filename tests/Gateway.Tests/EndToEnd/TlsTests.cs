using System.Security.Authentication;
using Gateway.Tests.Support;
using MailKit.Security;

namespace Gateway.Tests.EndToEnd;

public class TlsTests
{
    private const string TlsYaml = "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  tls: { certificate: cert.pem, key: key.pem }\n";

    private static Task<GatewayHost> StartAsync(FakeUpstream? upstream = null) =>
        GatewayHost.StartAsync(TlsYaml, upstream, prepareDirectory: dir => TestCertificates.WritePem(dir));

    [Fact]
    public async Task Starttls_is_offered_and_the_received_header_names_version_and_cipher()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        await Mail.SendAsync(gateway.Port, Mail.Message(), tls: SecureSocketOptions.StartTls);
        var header = Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data);
        Assert.Matches(@"with ESMTPS \(TLSv1\.[23]:TLS_\w+\)", header);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("tls=Tls1", line);
    }

    [Fact]
    public async Task Plaintext_pipelined_after_starttls_is_discarded()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            var ehlo = await c.CommandAsync("EHLO client.test");
            Assert.Contains("250-STARTTLS", ehlo);
            // The injected MAIL FROM arrives in the same packet as STARTTLS, before the handshake.
            await c.SendAsync("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
            Assert.Equal("220 2.0.0 Ready to start TLS", await c.ReadReplyAsync());
            await c.StartTlsAsync();
            Assert.True(c.Tls!.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);
            var ehlo2 = await c.CommandAsync("EHLO client.test");
            Assert.DoesNotContain("STARTTLS", ehlo2);
            // Had the injected MAIL been executed, RCPT would be accepted.
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.Equal("503 5.5.1 TLS already active", await c.CommandAsync("STARTTLS"));
        }
    }

    [Fact]
    public async Task Starttls_without_a_certificate_is_not_available()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await c.CommandAsync("EHLO client.test");
            Assert.Equal("502 5.5.1 Command not implemented", await c.CommandAsync("STARTTLS"));
        }
    }
}
