
namespace Gateway.Tests.Smtp;

public class SmtpPathTests
{
    private static SmtpPath Parse(string argument, bool allowNull = false)
    {
        var error = SmtpPath.TryParse(argument, allowNull, allowBarePostmaster: true, out var path, out _);
        Assert.Null(error);
        return path;
    }

    private static string Error(string argument) =>
        SmtpPath.TryParse(argument, allowNull: false, allowBarePostmaster: true, out _, out _) ?? "(parsed)";

    [Fact]
    public void Parses_a_plain_address_and_parameters()
    {
        var error = SmtpPath.TryParse("<User@Example.Test> SIZE=100 BODY=8BITMIME", false, false, out var path, out var parameters);
        Assert.Null(error);
        Assert.Equal("User", path.LocalPart);
        Assert.Equal("Example.Test", path.Domain);
        Assert.Equal("example.test", path.AsciiDomain);
        Assert.Equal("100", parameters["size"]);
        Assert.Equal("8BITMIME", parameters["BODY"]);
    }

    [Fact]
    public void Recognises_the_null_path_and_bare_postmaster()
    {
        Assert.True(Parse("<>", allowNull: true).IsNull);
        Assert.True(Parse("<Postmaster>").IsBarePostmaster);
        Assert.Equal("empty address", Error("<>"));
    }

    [Fact]
    public void Flags_routing_tricks()
    {
        Assert.True(Parse("<@relay.test,@other.test:user@example.test>").HasSourceRoute);
        Assert.True(Parse("<user@[192.0.2.1]>").IsAddressLiteral);
        Assert.True(Parse("<user@example.test.>").HasTrailingDot);
        var quoted = Parse("<\"user@other.test\"@example.test>");
        Assert.True(quoted.IsQuoted);
        Assert.Equal("\"user@other.test\"", quoted.LocalPart);
        Assert.Equal("user%other.test", Parse("<user%other.test@example.test>").LocalPart);
        Assert.Equal("host!user", Parse("<host!user@example.test>").LocalPart);
    }

    [Theory]
    [InlineData("user@example.test")]
    [InlineData("<user@example.test")]
    [InlineData("<user@@example.test>")]
    [InlineData("<user@exa mple.test>")]
    [InlineData("<.user@example.test>")]
    [InlineData("<us..er@example.test>")]
    [InlineData("<user@-example.test>")]
    [InlineData("<user>")]
    [InlineData("<\"unterminated@example.test>")]
    [InlineData("<user@example.test> SIZE=1 SIZE=2")]
    [InlineData("<user@example.test>X")]
    [InlineData("<\"a\\\u0001\"@example.test>")]
    public void Refuses_malformed_paths(string argument) => Assert.NotEqual("(parsed)", Error(argument));
}
