using System.Text;
using Gateway.Authentication.Arc;
using Gateway.Authentication.Dkim;
using Gateway.Dns;
using Gateway.Signing;
using Gateway.Tests.Support;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Signing;

/// <summary>Every signature and seal the gateway makes verifies with the gateway's own DKIM and ARC checkers.</summary>
public sealed class SignAndVerifyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private const string Message =
        "From: Alice <alice@example.test>\r\nTo: bob@elsewhere.test\r\nSubject: Quarterly report\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\n" +
        "Message-ID: <1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe numbers   are in.\r\n\r\n\r\n";

    private SigningKey Key(string pem, string domain = "example.test", string selector = "s1")
    {
        var path = _dir.Write(Guid.NewGuid().ToString("N") + ".pem", pem);
        return SigningKey.Load(domain, selector, path, out var error) ?? throw new InvalidOperationException(error);
    }

    private static MimeMessage Parse(string wire) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(wire)));

    private static async Task<DkimSignatureResult> VerifyAsync(string wire, ZoneResolver dns) =>
        Assert.Single(await new DkimChecker(dns, new DkimOptions()).VerifyAsync(Parse(wire), CancellationToken.None));

    [Theory]
    [InlineData("rsa")]
    [InlineData("ed25519")]
    public async Task A_dkim_signature_verifies_relaxed_and_over_signs_from(string algorithm)
    {
        var (pem, record) = algorithm == "rsa" ? SigningKeys.Rsa() : SigningKeys.Ed25519();
        var dns = new ZoneResolver().Add("s1._domainkey.example.test", RecordType.TXT, record);

        var header = DkimSigning.Sign(Parse(Message), Key(pem), TimeProvider.System);

        Assert.StartsWith("DKIM-Signature:", header);
        Assert.EndsWith("\r\n", header);
        Assert.Contains($"a={algorithm}-sha256", header);
        Assert.Contains("c=relaxed/relaxed", header);
        var h = System.Text.RegularExpressions.Regex.Match(header.Replace("\r\n", "").Replace(" ", "").Replace("\t", ""), "h=([^;]+)").Groups[1].Value;
        Assert.Equal("from:subject:date:to:message-id:mime-version:content-type:from", h.ToLowerInvariant());
        // Signed as it will travel: behind a trace header the gateway adds, the signature still verifies.
        var forwarded = header + "Received: from client.test by mx.example.test; Mon, 07 Dec 2026 08:00:01 +0000\r\n" + Message;
        var result = await VerifyAsync(forwarded, dns);
        Assert.Equal(DkimResult.Pass, result.Result);
        Assert.Equal("example.test", result.Domain);
    }

    [Fact]
    public async Task A_from_added_after_signing_breaks_the_signature()
    {
        var (pem, record) = SigningKeys.Rsa();
        var dns = new ZoneResolver().Add("s1._domainkey.example.test", RecordType.TXT, record);
        var header = DkimSigning.Sign(Parse(Message), Key(pem), TimeProvider.System);

        var tampered = header + "From: CEO <ceo@example.test>\r\n" + Message;

        Assert.NotEqual(DkimResult.Pass, (await VerifyAsync(tampered, dns)).Result);
    }

    [Fact]
    public async Task An_arc_seal_over_our_results_verifies_and_carries_them()
    {
        var (pem, record) = SigningKeys.Rsa();
        var dns = new ZoneResolver().Add("arc1._domainkey.gateway.test", RecordType.TXT, record);
        var results = new List<AuthenticationMethodResult> { new("spf", "pass"), new("dmarc", "pass") };

        var headers = ArcSealing.Seal(Parse(Message), Key(pem, "gateway.test", "arc1"), "mx.gateway.test", results, "none", TimeProvider.System);

        Assert.StartsWith("ARC-Seal:", headers);
        Assert.Contains("ARC-Message-Signature:", headers);
        Assert.Contains("ARC-Authentication-Results: i=1; mx.gateway.test; spf=pass; dmarc=pass; arc=none", headers.Replace("\r\n\t", " ").Replace("\r\n ", " "));
        var outcome = await new ArcChecker(new DkimKeyLocator(dns), ArcOptions.Default).VerifyAsync(Parse(headers + Message), CancellationToken.None);
        Assert.Equal(ArcResult.Pass, outcome.Result);
        Assert.Single(outcome.Hops);
    }

    [Fact]
    public async Task A_second_seal_extends_a_valid_chain_with_cv_pass()
    {
        var (pem, record) = SigningKeys.Rsa();
        var dns = new ZoneResolver().Add("arc1._domainkey.gateway.test", RecordType.TXT, record);
        var key = Key(pem, "gateway.test", "arc1");
        var first = ArcSealing.Seal(Parse(Message), key, "mx.gateway.test", [], "none", TimeProvider.System) + Message;

        var second = ArcSealing.Seal(Parse(first), key, "mx2.gateway.test", [], "pass", TimeProvider.System) + first;

        Assert.Contains("i=2", second[..second.IndexOf("ARC-Message-Signature", StringComparison.Ordinal)]);
        Assert.Contains("cv=pass", second[..second.IndexOf("ARC-Message-Signature", StringComparison.Ordinal)]);
        var outcome = await new ArcChecker(new DkimKeyLocator(dns), ArcOptions.Default).VerifyAsync(Parse(second), CancellationToken.None);
        Assert.Equal(ArcResult.Pass, outcome.Result);
        Assert.Equal(2, outcome.Hops.Count);
    }

    public void Dispose() => _dir.Dispose();
}
