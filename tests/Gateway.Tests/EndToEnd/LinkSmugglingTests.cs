using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Links written so that a browser (or a mail client's HTML view) follows them but a search for "https://" in the
/// raw text does not find them: character references, tabs and newlines inside the address, backslashes, missing
/// slashes, a link hidden behind a thousand others or a megabyte of padding. A url rule sees each.
/// </summary>
public class LinkSmugglingTests
{
    private const string Rule = """
        rules:
          - id: evil-link
            match: { url: { domain: evil.test } }
            action: reject
            reply: "554 5.7.1 Link refused"
        """;

    private const string Head = "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: t\r\nMIME-Version: 1.0\r\n";

    private static string Html(string body) => Head + "Content-Type: text/html\r\n\r\n<html><body>" + body + "</body></html>\r\n";

    public static TheoryData<string, string, string> Cases() => new()
    {
        { "plain", Html("<a href=\"https://evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "numeric reference", Html("<a href=\"&#104;ttps://evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "numeric reference without semicolon", Html("<a href=\"&#104ttps://evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "HTML5 named references", Html("<a href=\"https&colon;&sol;&sol;evil&period;test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "hex references for slashes", Html("<a href=\"https:&#x2F;&#x2F;evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "a newline in the scheme", Html("<a href=\"ht\r\ntps://evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "a tab between the slashes", Html("<a href=\"https:/\t/evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "backslashes", Html("<a href=\"https:\\\\evil.test\\x\">x</a>"), "554 5.7.1 Link refused" },
        { "no slashes", Html("<a href=\"https:evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "a reference in the text", Html("visit https&colon;//evil.test/x today"), "554 5.7.1 Link refused" },
        { "after a thousand other links", Html(string.Concat(Enumerable.Range(0, 1001).Select(i => $"<a href=\"https://ok.test/{i}\">x</a>")) + "<a href=\"https://evil.test/x\">x</a>"), "554 5.7.1 Link refused" },
        { "after links to a thousand hosts", Html(string.Concat(Enumerable.Range(0, 1001).Select(i => $"<a href=\"https://ok{i}.test/\">x</a>")) + "<a href=\"https://evil.test/x\">x</a>"), "554 5.7.0 Message refused: it cannot be inspected within the limits (links to more than 1000 hosts)" },
        { "after a megabyte of spaces", Head + "Content-Type: text/plain\r\n\r\n" + new string(' ', 1_100_000) + "\r\nhttps://evil.test/x\r\n", "554 5.7.1 Link refused" },
        { "a clean link", Html("<a href=\"https:&#x2F;&#x2F;good.test/x\">x</a> and mailto:a@evil.test"), "250 " },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_link_a_browser_follows_is_a_link_the_rules_see(string what, string message, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("rules:\n  files: [\"rules/*.yaml\"]\n", upstream,
            prepareDirectory: dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, "rules"));
                File.WriteAllText(Path.Combine(dir, "rules", "links.yaml"), Rule);
            });
        var reply = await Mail.DataReplyAsync(gateway.Port, message);
        Assert.True(reply.StartsWith(expected, StringComparison.Ordinal), $"{what}: {reply}");
        Assert.Equal(expected == "250 " ? 1 : 0, upstream.Messages.Count);
    }
}
