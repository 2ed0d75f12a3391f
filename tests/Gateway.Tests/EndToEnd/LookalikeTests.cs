using System.Text;
using Gateway.Tests.Detection;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Look-alike senders and HTML smuggling over SMTP, decided by the shipped rules/lookalike.yaml.</summary>
public class LookalikeTests
{
    /// <summary>The look-alike and HTML smuggling filters with the shipped lookalike.yaml rules.</summary>
    internal static Task<GatewayHost> StartAsync(FakeUpstream upstream) => GatewayHost.StartAsync("""
        pipeline:
          data:
            - { type: lookalike, brands: [paypal.com] }
            - { type: html_smuggling }
            - { type: rules }
        rules:
          files: ["rules/*.yaml"]
        """, upstream,
        prepareDirectory: dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "rules"));
            File.Copy(Path.Combine(RepoRoot.Find(), "rules", "lookalike.yaml"), Path.Combine(dir, "rules", "lookalike.yaml"));
        });

    private static async Task<string> SendAsync(GatewayHost gateway, string message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<someone@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            return await c.CommandAsync(message.ReplaceLineEndings("\r\n") + "\r\n.");
        }
    }

    private static string WithAttachment(string name, string type, string content)
    {
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(content), Base64FormattingOptions.InsertLineBreaks);
        return $"""
            From: "Payments" <payments@sender.test>
            To: bob@example.test
            Subject: your document
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: text/plain; charset=utf-8

            Your document is attached.
            --outer
            Content-Type: {type}; name="{name}"
            Content-Disposition: attachment; filename="{name}"
            Content-Transfer-Encoding: base64

            {base64}
            --outer--
            """;
    }

    [Fact]
    public async Task A_From_in_a_confusable_domain_of_a_brand_is_refused_naming_the_rule_and_the_evidence()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var reply = await SendAsync(gateway, "From: \"PayPal Security\" <security@xn--pypal-4ve.com>\nTo: bob@example.test\nSubject: account limited\n\nVerify your account.");
        Assert.Equal("550 5.7.1 Sender domain imitates a protected domain (lookalike-sender)", reply);
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=rejected"));
        Assert.Contains("LOOKALIKE_FROM(0: From pаypal.com (xn--pypal-4ve.com) imitates paypal.com (confusable characters))", line);
        Assert.Contains("by=rule:lookalike-sender", line);
    }

    [Theory]
    [InlineData("Remittance_0427.html", "text/html", "blob-mssaveblob.html", "script saves a file it built with msSaveOrOpenBlob")]
    [InlineData("voicemail.svg", "image/svg+xml", "svg-script.svg", "script in an SVG image")]
    [InlineData("statement.dat", "application/octet-stream", "data-uri-download.html", "link with a download attribute")]
    public async Task A_smuggling_attachment_is_refused_naming_the_rule(string name, string type, string sample, string evidence)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var reply = await SendAsync(gateway, WithAttachment(name, type, HtmlSmugglingScannerTests.Sample(sample)));
        Assert.Equal("554 5.7.1 HTML that builds a file in the browser is not accepted (html-smuggling)", reply);
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=rejected"));
        Assert.Contains($"HTML_SMUGGLING(0: attachment '{name}': ", line);
        Assert.Contains(evidence, line);
        Assert.Contains("by=rule:html-smuggling", line);
    }

    [Fact]
    public async Task A_newsletter_from_an_ordinary_sender_is_delivered()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var html = HtmlSmugglingScannerTests.Sample("newsletter-shop.html");
        var message = "From: \"Shop\" <news@shop.sender.test>\nTo: bob@example.test\nSubject: Autumn sale\nMIME-Version: 1.0\n"
            + "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + Convert.ToBase64String(Encoding.UTF8.GetBytes(html), Base64FormattingOptions.InsertLineBreaks);
        Assert.StartsWith("250", await SendAsync(gateway, message));
        Assert.Single(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("outcome=delivered"));
        Assert.DoesNotContain("LOOKALIKE", line);
        Assert.DoesNotContain("HTML_SMUGGLING", line);
    }
}

/// <summary>An HTML file that builds a file in the browser, zipped: the user opens the zip, then the page.</summary>
public class ZippedHtmlSmugglingTests
{
    [Theory]
    [InlineData("<html><body><script>var b = new Blob([x]); navigator.msSaveOrOpenBlob(b, 'a.iso');</script></body></html>", "554 5.7.1 HTML that builds a file")]
    [InlineData("<html><body><p>The Blob API is described at length in this article.</p></body></html>", "250 ")]
    public async Task An_html_file_in_a_zip_is_scanned_for_smuggling(string page, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await LookalikeTests.StartAsync(upstream);
        using var zip = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(zip, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        using (var entry = archive.CreateEntry("invoice.html").Open())
            entry.Write(Encoding.UTF8.GetBytes(page));
        var message = "From: a@sender.test\r\nTo: bob@example.test\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            + "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/zip; name=\"invoice.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String(zip.ToArray(), Base64FormattingOptions.InsertLineBreaks) + "\r\n--b--\r\n";
        Assert.StartsWith(expected, await Mail.DataReplyAsync(gateway.Port, message));
        Assert.Equal(expected == "250 " ? 1 : 0, upstream.Messages.Count);
    }
}
