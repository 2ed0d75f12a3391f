using System.Net;
using Gateway.Authentication.Spf;

namespace Gateway.Tests.Authentication.Spf;

public sealed class SpfRecordParserTests
{
    [Fact]
    public void Parses_every_mechanism_with_its_qualifier_and_arguments()
    {
        var record = SpfRecordParser.Parse(
            "v=spf1 +a -mx:mail.example.com/24//64 ~ptr:example.com ?ip4:192.0.2.0/24 ip6:2001:db8::/32 " +
            "include:_spf.example.net exists:%{ir}.bl.example.org all");
        Assert.Collection(record.Mechanisms,
            m => Assert.Equal((SpfResult.Pass, SpfMechanismKind.A, null, 32, 128), (m.Qualifier, m.Kind, m.Domain?.Text, m.Prefix4, m.Prefix6)),
            m => Assert.Equal((SpfResult.Fail, SpfMechanismKind.Mx, "mail.example.com", 24, 64), (m.Qualifier, m.Kind, m.Domain?.Text, m.Prefix4, m.Prefix6)),
            m => Assert.Equal((SpfResult.SoftFail, SpfMechanismKind.Ptr, "example.com"), (m.Qualifier, m.Kind, m.Domain?.Text)),
            m => Assert.Equal((SpfResult.Neutral, SpfMechanismKind.Ip4, IPAddress.Parse("192.0.2.0"), 24), (m.Qualifier, m.Kind, m.Network, m.Prefix4)),
            m => Assert.Equal((SpfMechanismKind.Ip6, IPAddress.Parse("2001:db8::"), 32), (m.Kind, m.Network, m.Prefix6)),
            m => Assert.Equal((SpfMechanismKind.Include, "_spf.example.net"), (m.Kind, m.Domain?.Text)),
            m => Assert.Equal((SpfMechanismKind.Exists, "%{ir}.bl.example.org"), (m.Kind, m.Domain?.Text)),
            m => Assert.Equal((SpfResult.Pass, SpfMechanismKind.All, "all"), (m.Qualifier, m.Kind, m.Text)));
    }

    [Fact]
    public void Keeps_redirect_and_exp_and_ignores_unknown_modifiers()
    {
        var record = SpfRecordParser.Parse("v=spf1  mx  redirect=_spf.example.com exp=why.%{d} x-cow=moo%{d}  ");
        Assert.Single(record.Mechanisms);
        Assert.Equal("_spf.example.com", record.Redirect?.Text);
        Assert.Equal("why.%{d}", record.Explanation?.Text);
    }

    [Fact]
    public void Names_and_version_are_case_insensitive()
    {
        var record = SpfRecordParser.Parse("V=SpF1 IP4:192.0.2.1 MX:Example.COM -ALL REDIRECT=example.net");
        Assert.Equal([SpfMechanismKind.Ip4, SpfMechanismKind.Mx, SpfMechanismKind.All], record.Mechanisms.Select(m => m.Kind));
        Assert.NotNull(record.Redirect);
    }

    [Fact]
    public void A_domain_may_hold_colons_and_slashes_before_its_prefix_lengths()
    {
        var mechanism = SpfRecordParser.Parse("v=spf1 a:foo:bar/baz.example.com/28").Mechanisms[0];
        Assert.Equal(("foo:bar/baz.example.com", 28, 128), (mechanism.Domain?.Text, mechanism.Prefix4, mechanism.Prefix6));
    }

    [Theory]
    [InlineData("v=spf1", true)]
    [InlineData("v=spf1 -all", true)]
    [InlineData("V=SPF1 -all", true)]
    [InlineData("v=spf10", false)]
    [InlineData("v=spf1-all", false)]
    [InlineData("v=spf1\t-all", false)]
    [InlineData(" v=spf1 -all", false)]
    [InlineData("spf2.0/pra -all", false)]
    public void Recognises_version_1_records(string text, bool isSpf1) => Assert.Equal(isSpf1, SpfRecord.IsSpf1(text));

    [Theory]
    [InlineData("v=spf1 a/33")]
    [InlineData("v=spf1 a//129")]
    [InlineData("v=spf1 a/24/64")]
    [InlineData("v=spf1 mx/08")]
    [InlineData("v=spf1 a:")]
    [InlineData("v=spf1 ip4:1.2.3.4/032")]
    [InlineData("v=spf1 ip4:01.2.3.4")]
    [InlineData("v=spf1 ip4:1.2.3.256")]
    [InlineData("v=spf1 ip4:1.2.3")]
    [InlineData("v=spf1 ip4:1.2.3.4/")]
    [InlineData("v=spf1 ip4:2001:db8::1")]
    [InlineData("v=spf1 ip6:192.0.2.1")]
    [InlineData("v=spf1 ip6:2001:db8::/129")]
    [InlineData("v=spf1 ip6:2001:db8::1%eth0")]
    [InlineData("v=spf1 include")]
    [InlineData("v=spf1 include:")]
    [InlineData("v=spf1 include:example.com/24")]
    [InlineData("v=spf1 exists")]
    [InlineData("v=spf1 ptr/24")]
    [InlineData("v=spf1 all:example.com")]
    [InlineData("v=spf1 -all.")]
    [InlineData("v=spf1 moo")]
    [InlineData("v=spf1 a:com")]
    [InlineData("v=spf1 a:example.123")]
    [InlineData("v=spf1 a:example.-com")]
    [InlineData("v=spf1 a:example.com-")]
    [InlineData("v=spf1 a:%{d}x")]
    [InlineData("v=spf1 redirect=")]
    [InlineData("v=spf1 exp=")]
    [InlineData("v=spf1 exp=a.example.com exp=b.example.com")]
    [InlineData("v=spf1 redirect=a.example.com redirect=a.example.com")]
    [InlineData("v=spf1 redirect:example.com")]
    [InlineData("v=spf1 1up=foo")]
    [InlineData("v=spf1 =all")]
    [InlineData("v=spf1 foo=%x")]
    [InlineData("v=spf1 a\t-all")]
    [InlineData("v=spf1 a:ex\u00e4mple.com")]
    public void Refuses_records_with_a_syntax_error(string text) =>
        Assert.Throws<SpfSyntaxException>(() => SpfRecordParser.Parse(text));

    [Theory]
    [InlineData("v=spf1 a:foo.example.xn--zckzah")]
    [InlineData("v=spf1 a:example.com.")]
    [InlineData("v=spf1 a:%{d}")]
    [InlineData("v=spf1 exists:%{i}.%{l2r-}.user.%{d2}")]
    [InlineData("v=spf1 include:a.example.%{d}.%%")]
    [InlineData("v=spf1 ip6:::ffff:192.0.2.1/128 ip4:0.0.0.0/0")]
    public void Accepts_edge_cases_of_the_grammar(string text) => SpfRecordParser.Parse(text);
}
