using System.Text.RegularExpressions;
using Gateway.Mime;

namespace Gateway.Tests.Mime;

public class UrlScanTests
{
    /// <summary>The pattern the scanner replaces: it stays the definition of what a link candidate is.</summary>
    private static readonly Regex Pattern = new(@"https?://[^\s""'<>()\[\]]+", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking);

    [Theory]
    [InlineData("see http://a.test/x and HTTPS://b.test/(y) or <https://c.test>")]
    [InlineData("httphttps://a.test http:// x https://  ftp://f.test ://x http:/x")]
    [InlineData("xhttps://a.test/http://b.test\"https://c.test'https://d.test]")]
    [InlineData("https://a.test\u00a0b http://c.test\u2028d HttP://e.test\u0085f")]
    public void Finds_what_the_pattern_finds(string text) =>
        Assert.Equal(Pattern.Matches(text).Select(m => m.Value), UrlScan.Candidates(text));

    [Fact]
    public void Finds_what_the_pattern_finds_in_random_text()
    {
        const string alphabet = "hHtTpPsS:/:/x. \"<>()[]\n\r\t\u00a0\u017f\u212a\u0131";
        var random = new Random(5321);
        for (var n = 0; n < 20_000; n++)
        {
            var chars = new char[random.Next(1, 40)];
            for (var i = 0; i < chars.Length; i++)
                chars[i] = random.Next(4) == 0 ? "http://"[random.Next(7)] : alphabet[random.Next(alphabet.Length)];
            var text = new string(chars);
            Assert.True(Pattern.Matches(text).Select(m => m.Value).SequenceEqual(UrlScan.Candidates(text)), $"differs on \"{text}\"");
        }
    }
}
