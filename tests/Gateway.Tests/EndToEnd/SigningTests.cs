using Gateway.Authentication.Arc;
using Gateway.Authentication.Dkim;
using Gateway.Dns;
using Gateway.Tests.Signing;
using Gateway.Tests.Support;
using MimeKit;

namespace Gateway.Tests.EndToEnd;

/// <summary>DKIM signing of outbound mail and ARC sealing of inbound mail, over SMTP, verified where the mail arrives.</summary>
public sealed class SigningTests
{
    private static MimeMessage Arrived(FakeUpstream upstream) => MimeMessage.Load(new MemoryStream(Assert.Single(upstream.Messages).Data));

    [Fact]
    public async Task Outbound_mail_from_our_networks_arrives_signed_for_its_authors_domain_and_verifies()
    {
        var (pem, record) = SigningKeys.Rsa();
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("""
            relay: { domains: [example.test], networks: [127.0.0.0/8] }
            signing:
              dkim: [{ domain: example.test, selector: s1, key: dkim.pem }]
            """, upstream, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "dkim.pem"), pem));

        await Mail.SendAsync(gateway.Port, Mail.Message(from: "alice@example.test", to: "partner@elsewhere.test"));

        var results = await new DkimChecker(new ZoneResolver().Add("s1._domainkey.example.test", RecordType.TXT, record), new DkimOptions())
            .VerifyAsync(Arrived(upstream), CancellationToken.None);
        Assert.Equal(DkimResult.Pass, Assert.Single(results).Result);
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("transaction id=") && l.Contains(@"upstream=""dkim-signed d\x3dexample.test s\x3ds1; "));
    }

    [Fact]
    public async Task Outbound_mail_of_a_domain_without_a_key_and_inbound_mail_are_not_dkim_signed()
    {
        var (pem, _) = SigningKeys.Rsa();
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("""
            relay: { domains: [example.test], networks: [127.0.0.0/8] }
            signing:
              dkim: [{ domain: example.test, selector: s1, key: dkim.pem }]
            """, upstream, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "dkim.pem"), pem));

        await Mail.SendAsync(gateway.Port, Mail.Message(from: "someone@customer.test", to: "partner@elsewhere.test"));

        Assert.DoesNotContain(Arrived(upstream).Headers, h => h.Field == "DKIM-Signature");
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("not signed: no DKIM key for customer.test"));
    }

    [Fact]
    public async Task Inbound_mail_arrives_arc_sealed_over_our_authentication_results_and_the_seal_verifies()
    {
        var (pem, record) = SigningKeys.Rsa();
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("""
            signing:
              arc: { domain: gateway.test, selector: arc1, key: arc.pem }
            """, upstream, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "arc.pem"), pem));

        await Mail.SendAsync(gateway.Port, Mail.Message());

        var arrived = Arrived(upstream);
        var outcome = await new ArcChecker(new DkimKeyLocator(new ZoneResolver().Add("arc1._domainkey.gateway.test", RecordType.TXT, record)), ArcOptions.Default)
            .VerifyAsync(arrived, CancellationToken.None);
        Assert.Equal(ArcResult.Pass, outcome.Result);
        var aar = arrived.Headers.Single(h => h.Field == "ARC-Authentication-Results").Value;
        Assert.Contains("i=1; mx.test.example;", aar);
        Assert.Contains("arc=none", aar);
        Assert.Contains(gateway.Logs.Lines, l => l.Contains(@"upstream=""arc-sealed i\x3d1 d\x3dgateway.test cv\x3dnone; "));
    }
}
