using System.Text;
using Gateway.Authentication.Dmarc;
using MimeKit;

namespace Gateway.Tests.Authentication.Dmarc;

public sealed class AuthorDomainsTests
{
    private static AuthorDomainResult Extract(params string[] froms)
    {
        var raw = new StringBuilder();
        foreach (var from in froms)
            raw.Append("From: ").Append(from).Append("\r\n");
        raw.Append("To: bob@example.org\r\nSubject: x\r\n\r\n");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(raw.ToString()));
        return AuthorDomains.Extract(HeaderList.Load(stream));
    }

    [Theory]
    [InlineData("alice@example.com", "example.com")]
    [InlineData("Alice <alice@Example.COM>", "example.com")]
    [InlineData("\"Doe, John\" <john@example.com>", "example.com")]
    [InlineData("\"admin@example.net\" <real@example.com>", "example.com")]
    [InlineData("alice@example.com (Alice, at work)", "example.com")]
    [InlineData("Alice <alice@bücher.example>", "xn--bcher-kva.example")]
    [InlineData("=?utf-8?q?J=C3=BCrgen?= <j@example.com>", "example.com")]
    public void One_mailbox_gives_the_author_domain(string from, string domain)
    {
        var result = Extract(from);
        Assert.Null(result.Problem);
        Assert.Equal(domain, result.Domain);
        Assert.Single(result.FromHeaders);
    }

    [Fact]
    public void No_from_field()
    {
        var result = Extract();
        Assert.Equal("no-from", result.Problem);
        Assert.Empty(result.Domains);
        Assert.Null(result.Domain);
    }

    [Fact]
    public void Several_from_fields_list_every_domain()
    {
        var result = Extract("a@example.com", "b@example.net");
        Assert.Equal("multiple-from", result.Problem);
        Assert.Equal(["example.com", "example.net"], result.Domains);
        Assert.Null(result.Domain);
    }

    [Fact]
    public void Several_mailboxes_in_one_field()
    {
        var result = Extract("a@example.com, b@example.net, c@example.com");
        Assert.Equal("multiple-addresses", result.Problem);
        Assert.Equal(["example.com", "example.net"], result.Domains);
    }

    [Fact]
    public void Group_syntax_is_a_problem_even_with_one_member()
    {
        var result = Extract("Team: a@example.com;");
        Assert.Equal("group-syntax", result.Problem);
        Assert.Equal(["example.com"], result.Domains);
    }

    [Theory]
    [InlineData("just words")]
    [InlineData("alice")]
    [InlineData("<>")]
    [InlineData("alice@[192.0.2.1]")]
    [InlineData("undisclosed:;")]
    public void Fields_without_a_usable_domain(string from)
    {
        var result = Extract(from);
        Assert.NotNull(result.Problem);
        Assert.Empty(result.Domains);
    }
}
