using System.Text.RegularExpressions;
using Gateway.Authentication.Dmarc;
using Gateway.Tests.Support;

namespace Gateway.Tests.Authentication.Dmarc;

public sealed class PublicSuffixListTests
{
    private static readonly Lazy<PublicSuffixList> Pinned =
        new(() => PublicSuffixList.Load(Path.Combine(RepoRoot.Find(), "tests/Gateway.Tests/TestData/dmarc/public_suffix_list.dat")));

    private static readonly Regex Check = new(@"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);", RegexOptions.Multiline);

    /// <summary>The active (not commented-out) cases of the PSL project's test_psl.txt.</summary>
    public static TheoryData<string?, string?> PslCases()
    {
        var data = new TheoryData<string?, string?>();
        var text = File.ReadAllText(Path.Combine(RepoRoot.Find(), "tests/Gateway.Tests/TestData/dmarc/test_psl.txt"));
        foreach (Match m in Check.Matches(text))
            data.Add(Unquote(m.Groups[1].Value), Unquote(m.Groups[2].Value));
        return data;
    }

    private static string? Unquote(string s) => s == "null" ? null : s[1..^1];

    [Theory]
    [MemberData(nameof(PslCases))]
    public void Registrable_domain_agrees_with_test_psl(string? domain, string? expected)
    {
        // The list answers in A-label form; the expected values of the IDN cases are in U-labels.
        Assert.Equal(DomainNames.ToAscii(expected), Pinned.Value.RegistrableDomain(domain));
    }

    [Fact]
    public void All_78_active_cases_are_read()
    {
        Assert.Equal(78, PslCases().Count);
    }

    [Fact]
    public void Both_sections_are_loaded()
    {
        var psl = Pinned.Value;
        Assert.True(psl.IcannRuleCount > 5000);
        Assert.True(psl.PrivateRuleCount > 1000);
        // blogspot.com is a PRIVATE-section rule, so a blog is its own organizational domain.
        Assert.Equal("me.blogspot.com", psl.RegistrableDomain("www.me.blogspot.com"));
        Assert.Null(psl.RegistrableDomain("blogspot.com"));
    }

    [Fact]
    public void Embedded_default_list_loads_once_and_answers()
    {
        Assert.Same(PublicSuffixList.Default, PublicSuffixList.Default);
        Assert.Equal("example.co.uk", PublicSuffixList.Default.RegistrableDomain("mail.Example.CO.UK."));
        Assert.Null(PublicSuffixList.Default.RegistrableDomain("co.uk"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..example.com")]
    [InlineData(".")]
    [InlineData("..com")]
    public void Invalid_names_have_no_registrable_domain(string name)
    {
        Assert.Null(Pinned.Value.RegistrableDomain(name));
    }

    [Fact]
    public void A_small_list_is_parsed_with_wildcards_exceptions_and_idn_rules()
    {
        var psl = PublicSuffixList.Parse("""
            // ===BEGIN ICANN DOMAINS===
            test
            *.wild.test
            !keep.wild.test
            公司.test  trailing words are ignored
            // ===END ICANN DOMAINS===
            """);
        Assert.Equal("a.b.wild.test", psl.RegistrableDomain("x.a.b.wild.test"));
        Assert.Null(psl.RegistrableDomain("b.wild.test"));
        Assert.Equal("keep.wild.test", psl.RegistrableDomain("www.keep.wild.test"));
        Assert.Equal("x.xn--55qx5d.test", psl.RegistrableDomain("y.x.公司.test"));
        Assert.Equal(0, psl.PrivateRuleCount);
    }

    [Fact]
    public void A_file_that_is_not_the_list_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => PublicSuffixList.Parse("<html>not found</html>\n"));
    }
}
