using System.Text;
using Gateway.Authentication.Dkim;
using Gateway.Dns;

namespace Gateway.Tests.Authentication.Dkim;

public class DkimCheckerTests
{
    private const string Vector = "generated/g01-rsa2048-rr.eml";

    private static DkimChecker Checker(IDnsResolver dns, int maxSignatures = 10) =>
        new(dns, new DkimOptions { MaxSignatures = maxSignatures, TimeProvider = new FixedClock(DkimTestData.Now) });

    private static ZoneResolver Keys() => DkimTestData.LoadZone("generated/KEYS.dat");

    private static string Wire(string file = Vector) => Encoding.UTF8.GetString(DkimTestData.WireBytes(file));

    private static Task<IReadOnlyList<DkimSignatureResult>> Verify(string wire, IDnsResolver dns, int maxSignatures = 10) =>
        Checker(dns, maxSignatures).VerifyAsync(DkimTestData.Parse(Encoding.UTF8.GetBytes(wire)), CancellationToken.None);

    [Fact]
    public async Task A_signed_message_passes_and_says_what_signed_it()
    {
        var result = Assert.Single(await Verify(Wire(), Keys()));

        Assert.Equal(DkimResult.Pass, result.Result);
        Assert.Null(result.Reason);
        Assert.Equal(("example.com", "rsa2048", "rsa-sha256", "@example.com"), (result.Domain, result.Selector, result.Algorithm, result.Identity));
        Assert.Equal("Rd5nX+JWrJKa", result.HeaderB);
        Assert.Contains(result.Trace, t => t.StartsWith("TXT rsa2048._domainkey.example.com -> v=DKIM1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_changed_body_fails_on_the_body_hash()
    {
        var result = Assert.Single(await Verify(Wire().Replace("Second line.", "Second line!"), Keys()));

        Assert.Equal(DkimResult.Fail, result.Result);
        Assert.Equal("body hash mismatch", result.Reason);
    }

    [Fact]
    public async Task A_changed_signed_header_fails_on_the_signature()
    {
        var result = Assert.Single(await Verify(Wire().Replace("Subject: DKIM conformance vector", "Subject: DKIM conformance vectors"), Keys()));

        Assert.Equal(DkimResult.Fail, result.Result);
        Assert.Equal("signature mismatch", result.Reason);
    }

    [Fact]
    public async Task A_key_lookup_timeout_is_a_temperror()
    {
        var dns = new ZoneResolver().Fail("rsa2048._domainkey.example.com", "Query timed out");

        var result = Assert.Single(await Verify(Wire(), dns));

        Assert.Equal(DkimResult.TempError, result.Result);
        Assert.Contains("Query timed out", result.Reason);
        Assert.Equal(["TXT rsa2048._domainkey.example.com -> failure: Query timed out"], result.Trace);
    }

    [Fact]
    public async Task A_missing_key_is_a_permerror()
    {
        var result = Assert.Single(await Verify(Wire(), new ZoneResolver()));

        Assert.Equal(DkimResult.PermError, result.Result);
        Assert.Equal("no key", result.Reason);
    }

    [Fact]
    public async Task An_unsigned_message_has_no_results_and_DomainKeys_signatures_are_ignored()
    {
        Assert.Empty(await Verify("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n", Keys()));
        Assert.Empty(await Verify(Wire("mail-dkim/corpus/good_dk_1.txt"), DkimTestData.LoadZone("mail-dkim/FAKE_DNS.dat")));
    }

    [Fact]
    public async Task Signatures_past_the_limit_are_reported_as_not_checked_without_a_lookup()
    {
        var dns = Keys();

        var results = await Verify(Wire("generated/g29-ed25519-and-rsa.eml"), dns, maxSignatures: 1);

        Assert.Equal([DkimResult.Pass, DkimResult.Neutral], results.Select(r => r.Result));
        Assert.StartsWith("not checked", results[1].Reason);
        Assert.Equal("rsa2048", results[1].Selector);
        Assert.Equal(1, dns.QueryCount);
    }

    [Fact]
    public async Task A_signature_that_is_not_a_tag_list_is_a_permerror_next_to_a_good_one()
    {
        var results = await Verify("DKIM-Signature: synerr\r\n" + Wire(), Keys());

        Assert.Equal([DkimResult.PermError, DkimResult.Pass], results.Select(r => r.Result));
    }

    [Fact]
    public async Task A_signature_with_b_that_is_not_base64_is_a_permerror()
    {
        var wire = Wire().Replace("b=Rd5nX+JWrJKaQg06", "b=!!!!!+JWrJKaQg06");

        var result = Assert.Single(await Verify(wire, Keys()));

        Assert.Equal(DkimResult.PermError, result.Result);
    }

    [Fact]
    public async Task The_body_length_tag_is_reported()
    {
        var result = Assert.Single(await Verify(Wire("generated/g26-l-tag-appended.eml"), Keys()));

        Assert.Equal(DkimResult.Pass, result.Result);
        Assert.NotNull(result.BodyLength);
    }

    [Fact]
    public async Task Expiry_is_judged_by_the_configured_clock()
    {
        var wire = Wire("generated/s01-expired.eml");
        var message = DkimTestData.Parse(Encoding.UTF8.GetBytes(wire));
        var before = new DkimChecker(Keys(), new DkimOptions { TimeProvider = new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1704067300)) });

        Assert.Equal(DkimResult.Pass, Assert.Single(await before.VerifyAsync(message, CancellationToken.None)).Result);
        var after = Assert.Single(await Verify(wire, Keys()));
        Assert.Equal((DkimResult.PermError, "signature expired (x=)"), (after.Result, after.Reason));
    }

    [Fact]
    public async Task Several_key_records_at_the_name_use_the_first_usable_one()
    {
        var rsa = File.ReadAllLines(Path.Combine(DkimTestData.Root, "generated/KEYS.dat")).First(l => l.StartsWith("rsa2048.", StringComparison.Ordinal)).Split("  ", 2)[1];
        var dns = new ZoneResolver()
            .Add("rsa2048._domainkey.example.com", RecordType.TXT, "v=spf1 -all")
            .Add("rsa2048._domainkey.example.com", RecordType.TXT, rsa);

        Assert.Equal(DkimResult.Pass, Assert.Single(await Verify(Wire(), dns)).Result);
    }
}
