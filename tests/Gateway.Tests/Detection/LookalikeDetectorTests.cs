using Gateway.Detection;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection;

public class LookalikeDetectorTests
{
    private static readonly LookalikeDetector Corp = new(["corp.example", "paypal.com", "microsoft.com", "bbc.co.uk"]);

    [Theory]
    [InlineData("paypal", "paypal")]
    [InlineData("pаypal", "paypal")]       // Cyrillic а
    [InlineData("ρaypal", "paypal")]       // Greek rho
    [InlineData("paypaI", "paypal")]       // capital I for l
    [InlineData("rnicrosoft", "microsoft")] // r n for m
    [InlineData("ｐａｙｐａｌ", "paypal")]   // full-width letters
    public void Confusable_strings_share_a_skeleton(string lookalike, string original) =>
        Assert.Equal(Confusables.DomainSkeleton(original), Confusables.DomainSkeleton(lookalike));

    [Fact]
    public void The_skeleton_follows_TR39_and_the_data_is_whole()
    {
        Assert.True(Confusables.Count > 6000);
        Assert.Equal("rn", Confusables.Skeleton("m"));       // 006D ; 0072 006E
        Assert.Equal("O", Confusables.Skeleton("0"));        // 0030 ; 004F
        Assert.Equal("l", Confusables.Skeleton("1"));
        Assert.NotEqual(Confusables.DomainSkeleton("paypal"), Confusables.DomainSkeleton("paypals"));
        Assert.NotEqual(Confusables.DomainSkeleton("corp"), Confusables.DomainSkeleton("carp"));
    }

    [Theory]
    [InlineData("c0rp.example", "corp.example", LookalikeKind.Digits)]
    [InlineData("paypa1.com", "paypal.com", LookalikeKind.Digits)]
    [InlineData("m1cr0s0ft.com", "microsoft.com", LookalikeKind.Digits)]
    [InlineData("xn--pypal-4ve.com", "paypal.com", LookalikeKind.Confusable)]    // pаypal.com, Cyrillic а, as punycode
    [InlineData("pаypal.com", "paypal.com", LookalikeKind.Confusable)]           // the same in Unicode
    [InlineData("rnicrosoft.com", "microsoft.com", LookalikeKind.Confusable)]
    [InlineData("paypall.com", "paypal.com", LookalikeKind.OneEdit)]              // a letter added
    [InlineData("paypl.com", "paypal.com", LookalikeKind.OneEdit)]                // dropped
    [InlineData("pyapal.com", "paypal.com", LookalikeKind.OneEdit)]               // swapped
    [InlineData("paypel.com", "paypal.com", LookalikeKind.OneEdit)]               // changed
    [InlineData("microsfot.net", "microsoft.com", LookalikeKind.OneEdit)]         // swapped, and another TLD
    [InlineData("paypal.net", "paypal.com", LookalikeKind.OtherTld)]
    [InlineData("paypal.co.uk", "paypal.com", LookalikeKind.OtherTld)]
    [InlineData("corp.test", "corp.example", LookalikeKind.OtherTld)]
    [InlineData("corp.example.evil.test", "corp.example", LookalikeKind.Embedded)]
    [InlineData("login.paypal.com.secure-id.test", "paypal.com", LookalikeKind.Embedded)]
    [InlineData("corp-example.test", "corp.example", LookalikeKind.Embedded)]
    [InlineData("www.corp-example-billing.test", "corp.example", LookalikeKind.Embedded)]
    [InlineData("login-paypal-com.test", "paypal.com", LookalikeKind.Embedded)]
    public void Each_kind_of_lookalike_is_found_with_the_domain_it_imitates(string domain, string imitates, LookalikeKind kind)
    {
        var finding = Corp.Check(domain);
        Assert.NotNull(finding);
        Assert.Equal(imitates, finding.Imitates);
        Assert.Equal(kind, finding.Kind);
    }

    [Fact]
    public void The_evidence_shows_an_international_name_both_ways()
    {
        var finding = Corp.Check("xn--pypal-4ve.com")!;
        Assert.Equal("pаypal.com (xn--pypal-4ve.com) imitates paypal.com (confusable characters)", finding.ToString());
    }

    [Theory]
    [InlineData("corp.example")]                 // the protected domain itself
    [InlineData("mail.corp.example")]            // its subdomains
    [InlineData("CORP.EXAMPLE.")]                // any case, a trailing dot
    [InlineData("news.paypal.com")]
    [InlineData("bbc.co.uk")]
    [InlineData("corporate.test")]               // shares letters, nothing more
    [InlineData("mail.corp.partner.test")]       // the name alone inside another domain: too common a word
    [InlineData("paypal.sharepoint.com")]        // ... and how tenants of shared services are named
    [InlineData("paypal-login.test")]
    [InlineData("paypalshop.test")]              // not a separate word
    [InlineData("bbc.com")]                      // a three-letter name under another TLD: too many owners
    [InlineData("bcc.co.uk")]                    // three letters: one edit is too close to chance
    [InlineData("microsoftonline.com")]
    [InlineData("192.0.2.1")]
    [InlineData("")]
    [InlineData("not a domain")]
    [InlineData("com")]                          // a public suffix
    public void Protected_domains_their_subdomains_and_unrelated_names_are_not_lookalikes(string domain) =>
        Assert.Null(Corp.Check(domain));

    [Fact]
    public void Real_world_domains_are_not_reported_except_a_brand_under_another_tld()
    {
        // Brands a gateway might protect, short and long, against domains mail commonly names.
        var detector = new LookalikeDetector(["paypal.com", "microsoft.com", "apple.com", "amazon.com", "ing.com", "bbc.co.uk",
            "chase.com", "dhl.com", "fedex.com", "ups.com", "netflix.com", "linkedin.com", "dropbox.com", "docusign.com",
            "adobe.com", "office.com", "example.com", "corp.example", "google.com", "gmx.de"]);
        var real = File.ReadAllLines(Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "lookalike", "real-domains.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'));
        var found = real.Select(d => detector.Check(d)).OfType<LookalikeFinding>().Select(f => f.ToString()).ToList();
        // The same brand under another TLD is what OtherTld means; an admin lists such domains under `brands`.
        Assert.Equal(
            ["paypal.me imitates paypal.com (same name, other TLD)", "apple.news imitates apple.com (same name, other TLD)"],
            found);
    }

    [Theory]
    [InlineData("paypal", "paypall", true)]
    [InlineData("paypal", "paypl", true)]
    [InlineData("paypal", "papyal", true)]
    [InlineData("paypal", "qaypal", true)]
    [InlineData("paypal", "paypal", false)]
    [InlineData("paypal", "pyapla", false)]
    [InlineData("paypal", "paypalll", false)]
    [InlineData("ab", "ba", true)]
    [InlineData("abc", "acbd", false)]
    public void One_edit_includes_a_swap_of_neighbours(string a, string b, bool expected)
    {
        Assert.Equal(expected, EditDistance.IsOneEdit(a, b));
        Assert.Equal(expected, EditDistance.IsOneEdit(b, a));
    }
}
