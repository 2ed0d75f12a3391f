using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Support;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.EndToEnd;

public class DkimTests
{
    private sealed class OneKeyLocator(string record) : DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(record);

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(record));
    }

    [Theory]
    [InlineData(DkimCanonicalizationAlgorithm.Simple, DkimCanonicalizationAlgorithm.Simple)]
    [InlineData(DkimCanonicalizationAlgorithm.Relaxed, DkimCanonicalizationAlgorithm.Relaxed)]
    public async Task A_dkim_signed_message_still_verifies_after_the_gateway(DkimCanonicalizationAlgorithm header, DkimCanonicalizationAlgorithm body)
    {
        using var rsa = RSA.Create(2048);
        var record = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        var signer = new DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem())), "sender.test", "s1")
        {
            HeaderCanonicalizationAlgorithm = header,
            BodyCanonicalizationAlgorithm = body,
        };
        var message = Mail.Message(body: "A line with  two  spaces.\r\n.A line starting with a dot\r\n\r\n");
        message.Prepare(EncodingConstraint.SevenBit);
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.MessageId]);

        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        await Mail.SendAsync(gateway.Port, message);

        var forwarded = MimeMessage.Load(new MemoryStream(Assert.Single(upstream.Messages).Data));
        Assert.Equal("Received", forwarded.Headers[0].Field);
        var verifier = new DkimVerifier(new OneKeyLocator(record));
        var signature = forwarded.Headers[forwarded.Headers.IndexOf(HeaderId.DkimSignature)];
        Assert.True(await verifier.VerifyAsync(forwarded, signature));

        // And the check can fail: a changed body does not verify.
        forwarded.Body = new TextPart("plain") { Text = "tampered" };
        Assert.False(await verifier.VerifyAsync(forwarded, signature));
    }
}
