using System.Net;
using Gateway.Authentication.Spf;

namespace Gateway.Tests.Authentication.Spf;

public sealed class SpfMacroStringTests
{
    // The values of the examples in RFC 7208 7.4.
    private static SpfMacroValues Values(string client = "192.0.2.3") => new(
        "strong-bad@email.example.com", "strong-bad", "email.example.com", "email.example.com",
        IPAddress.Parse(client), "mx.example.org", null, "receiver.example.net", 1_704_164_645);

    [Theory]
    [InlineData("%{s}", "strong-bad@email.example.com")]
    [InlineData("%{o}", "email.example.com")]
    [InlineData("%{d}", "email.example.com")]
    [InlineData("%{d4}", "email.example.com")]
    [InlineData("%{d3}", "email.example.com")]
    [InlineData("%{d2}", "example.com")]
    [InlineData("%{d1}", "com")]
    [InlineData("%{dr}", "com.example.email")]
    [InlineData("%{d2r}", "example.email")]
    [InlineData("%{l}", "strong-bad")]
    [InlineData("%{l-}", "strong.bad")]
    [InlineData("%{lr}", "strong-bad")]
    [InlineData("%{lr-}", "bad.strong")]
    [InlineData("%{l1r-}", "strong")]
    [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
    [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
    [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
    [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
    [InlineData("%{h}", "mx.example.org")]
    [InlineData("%{p}", "unknown")]
    [InlineData("%{D999}", "email.example.com")]
    [InlineData("%{d002}", "example.com")]
    [InlineData("a%%b%_c%-d", "a%b c%20d")]
    [InlineData("%{L}", "strong-bad")]
    [InlineData("%{S}", "strong-bad%40email.example.com")]
    public void Expands_the_examples_of_the_rfc(string text, string expected) =>
        Assert.Equal(expected, SpfMacroString.Parse(text, explanation: false).Expand(Values()));

    [Fact]
    public void Expands_ipv6_addresses_as_nibbles_and_in_compressed_form()
    {
        var values = Values("2001:db8::cb01");
        Assert.Equal("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
            SpfMacroString.Parse("%{ir}.%{v}._spf.%{d2}", explanation: false).Expand(values));
        Assert.Equal("2001:db8::cb01", SpfMacroString.Parse("%{c}", explanation: true).Expand(values));
    }

    [Fact]
    public void Explanation_letters_give_the_client_the_receiver_and_the_time()
    {
        var text = SpfMacroString.Parse("%{c} refused by %{r} at %{t}; see %{d}", explanation: true);
        Assert.Equal("192.0.2.3 refused by receiver.example.net at 1704164645; see email.example.com", text.Expand(Values()));
    }

    [Fact]
    public void Upper_case_letters_escape_everything_but_unreserved_characters()
    {
        var values = Values() with { LocalPart = "~jack&jill=up a/b" };
        Assert.Equal("~jack%26jill%3Dup%20a%2Fb", SpfMacroString.Parse("%{L}", explanation: false).Expand(values));
    }

    [Fact]
    public void Splits_on_every_delimiter_given()
    {
        var values = Values() with { LocalPart = "foo-bar+zip+quux" };
        Assert.Equal("quux.zip.bar.foo", SpfMacroString.Parse("%{lr+-}", explanation: false).Expand(values));
        Assert.Equal("bar.foo", SpfMacroString.Parse("%{l2r+-}", explanation: false).Expand(values));
    }

    [Theory]
    [InlineData("%{x}", false)]         // unknown letter
    [InlineData("%{c}", false)]         // c, r and t only in explanations
    [InlineData("%{r}.example.com", false)]
    [InlineData("%{t}", false)]
    [InlineData("%{d0}", false)]        // a label count must be nonzero
    [InlineData("%{d2x}", false)]       // not a delimiter
    [InlineData("%{}", true)]
    [InlineData("%{d", true)]           // unterminated
    [InlineData("abc%", true)]          // '%' at the end
    [InlineData("%a", true)]            // '%' not followed by { % _ -
    [InlineData("a b", false)]          // spaces only in explanations
    [InlineData("caf\u00e9", true)]     // 7-bit ASCII only
    [InlineData("a\tb", true)]
    public void Refuses_bad_syntax(string text, bool explanation) =>
        Assert.Throws<SpfSyntaxException>(() => SpfMacroString.Parse(text, explanation));

    [Theory]
    [InlineData("%{d}", true)]
    [InlineData("foo.%%", true)]
    [InlineData("foo.%-", true)]
    [InlineData("%{d}.example.com", false)]
    [InlineData("%%.com", false)]
    public void Knows_whether_it_ends_in_a_macro(string text, bool endsWithMacro) =>
        Assert.Equal(endsWithMacro, SpfMacroString.Parse(text, explanation: false).EndsWithMacro);

    [Fact]
    public void Knows_when_it_needs_the_validated_name()
    {
        Assert.True(SpfMacroString.Parse("%{p}.x.example", explanation: false).UsesValidatedName);
        Assert.False(SpfMacroString.Parse("%{d}.x.example", explanation: false).UsesValidatedName);
    }
}
