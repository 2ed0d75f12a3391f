using System.Security.Cryptography;
using System.Text;
using Gateway.Dns;
using Gateway.Tests.Support;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Filters;

/// <summary>
/// A mailing list changes the subject (breaking the author's DKIM signature) and ARC-seals what it received: DMARC
/// fails, and only a sealer the configuration trusts may override it.
/// </summary>
public sealed class ArcOverrideTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly RSA _authorKey = RSA.Create(2048);
    private readonly RSA _listKey = RSA.Create(2048);

    private sealed class ListSealer(Stream key) : ArcSigner(key, "lists.example.org", "arc", DkimSignatureAlgorithm.RsaSha256)
    {
        protected override AuthenticationResults GenerateArcAuthenticationResults(FormatOptions options, MimeMessage message, CancellationToken cancellationToken)
        {
            var results = new AuthenticationResults("lists.example.org");
            results.Results.Add(new AuthenticationMethodResult("dkim", "pass"));
            return results;
        }

        protected override Task<AuthenticationResults> GenerateArcAuthenticationResultsAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(GenerateArcAuthenticationResults(options, message, cancellationToken));
    }

    private static Stream Pem(RSA key) => new MemoryStream(Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));

    private static string Record(RSA key) => "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    private ZoneResolver Dns(bool listKeyFails = false) => new ZoneResolver()
        .Add("s1._domainkey.sender.test", RecordType.TXT, Record(_authorKey))
        .Add(listKeyFails ? "other._domainkey.lists.example.org" : "arc._domainkey.lists.example.org", RecordType.TXT, Record(_listKey))
        .Fail(listKeyFails ? "arc._domainkey.lists.example.org" : "unused.test", "SERVFAIL")
        .Add("_dmarc.sender.test", RecordType.TXT, "v=DMARC1; p=reject")
        .Add("sender.test", RecordType.TXT, "v=spf1 ip4:192.0.2.0/24 -all");

    private string ListCopy()
    {
        var message = Mail.Message(subject: "meeting notes");
        message.Prepare(EncodingConstraint.SevenBit);
        new DkimSigner(Pem(_authorKey), "sender.test", "s1").Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject]);
        message.Subject = "[team] meeting notes"; // what lists do, and why the author's signature breaks
        new ListSealer(Pem(_listKey)).Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.DkimSignature]);
        using var bytes = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, bytes);
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private async Task<Gateway.Cli.ExplainCommand.Report> DeliverFromListAsync(string trusted, bool listKeyFails = false)
    {
        var config = OfflineRun.Config($"authentication: {{ trusted_arc_sealers: [{trusted}] }}\npipeline:\n  data: [{{ type: dkim }}, {{ type: arc }}, {{ type: dmarc }}]\n", _dir);
        return await OfflineRun.RunAsync(config, Dns(listKeyFails), ListCopy(), clientIp: "198.51.100.20", from: "team-bounces@lists.example.org", helo: "lists.example.org");
    }

    [Fact]
    public async Task A_trusted_sealer_overrides_the_dmarc_failure()
    {
        var report = await DeliverFromListAsync("lists.example.org");

        Assert.Equal("forward", report.Verdict);
        Assert.Contains("DKIM_FAIL", report.Symbols);
        Assert.Contains("ARC_PASS", report.Symbols);
        Assert.Contains("DMARC_FAIL", report.Symbols);
        Assert.Contains("DMARC_ARC_OVERRIDE", report.Symbols);
        Assert.Contains(report.Headers, h => h.Contains("arc=pass") && h.Contains("dmarc=fail"));
        Assert.Contains(report.Authentication, a => a.Method == "arc" && a.Dns.Any(d => d.StartsWith("TXT arc._domainkey.lists.example.org -> v=DKIM1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Any_other_sealer_does_not()
    {
        var report = await DeliverFromListAsync("other-list.example.net");

        Assert.Equal("reject", report.Verdict);
        Assert.Equal("550 5.7.1 Rejected by the DMARC policy of sender.test (dmarc)", report.Reply);
    }

    [Fact]
    public async Task A_trusted_chain_that_cannot_be_checked_for_dns_trouble_defers_rather_than_refuses()
    {
        var report = await DeliverFromListAsync("lists.example.org", listKeyFails: true);

        Assert.Equal("tempfail", report.Verdict);
        Assert.Equal("451 4.4.3 ARC check of lists.example.org failed temporarily (DNS), try again later (dmarc)", report.Reply);
    }

    public void Dispose()
    {
        _dir.Dispose();
        _authorKey.Dispose();
        _listKey.Dispose();
    }
}
