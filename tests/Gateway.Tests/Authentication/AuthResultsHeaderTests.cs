using Gateway.Authentication;

namespace Gateway.Tests.Authentication;

public class AuthResultsHeaderTests
{
    [Fact]
    public void Writes_one_method_a_line_after_the_authserv_id()
    {
        var header = AuthResultsHeader.Build("mx.example.test",
        [
            new("spf", "pass", null, [("smtp.mailfrom", "sender@example.com")]),
            new("dkim", "fail", "body hash did not verify", [("header.d", "example.com"), ("header.s", "sel1"), ("header.b", "AbC+/12x")]),
            new("dmarc", "pass", null, [("header.from", "example.com")]),
        ]);
        Assert.Equal(
            "Authentication-Results: mx.example.test;\r\n\tspf=pass smtp.mailfrom=sender@example.com;\r\n" +
            "\tdkim=fail reason=\"body hash did not verify\" header.d=example.com header.s=sel1 header.b=\"AbC+/12x\";\r\n" +
            "\tdmarc=pass header.from=example.com\r\n", header);
    }

    [Fact]
    public void No_results_is_none()
    {
        Assert.Equal("Authentication-Results: mx.example.test; none\r\n", AuthResultsHeader.Build("mx.example.test", []));
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("user@example.com", "user@example.com")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("x;dkim=pass", "\"x;dkim=pass\"")]
    [InlineData("evil\"\r\nX-Injected: 1", "\"evil\\\"X-Injected: 1\"")]
    [InlineData("back\\slash", "\"back\\\\slash\"")]
    [InlineData("a@b@c", "\"a@b@c\"")]
    [InlineData("", "\"\"")]
    public void Quotes_anything_that_is_not_a_plain_value(string value, string written)
    {
        Assert.Equal(written, AuthResultsHeader.Quote(value));
    }

    [Fact]
    public void A_sender_controlled_value_cannot_add_a_line()
    {
        var header = AuthResultsHeader.Build("mx.example.test", [new("spf", "fail", "a\r\nb", [("smtp.mailfrom", "x\r\n\r\nbody@evil")])]);
        Assert.Equal(2, header.Split("\r\n").Length - 1);
    }
}
