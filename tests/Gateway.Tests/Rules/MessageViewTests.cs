using System.IO.Compression;
using System.Text;
using Gateway.Mime;
using MimeKit;

namespace Gateway.Tests.Rules;

public class MessageViewTests
{
    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                s.Write(content);
            }
        }
        return ms.ToArray();
    }

    private static MessageView View(MimeLimits? limits = null, params (string Name, string Type, byte[] Content)[] files)
    {
        var builder = new BodyBuilder { TextBody = "Hello", HtmlBody = "<p>Click <b>here</b> &amp; win</p><script>evil()</script>" };
        foreach (var (name, type, content) in files)
            builder.Attachments.Add(name, content, ContentType.Parse(type));
        var message = new MimeMessage { Subject = "files", Body = builder.ToMessageBody() };
        message.From.Add(MailboxAddress.Parse("a@sender.test"));
        return MessageView.Parse(SpoolOf(message), limits ?? MimeLimits.Default);
    }

    private static MessageSpool SpoolOf(MimeMessage message)
    {
        var spool = new MessageSpool();
        using var ms = new MemoryStream();
        message.WriteTo(ms);
        spool.Write(ms.ToArray());
        return spool;
    }

    private static readonly byte[] Exe = Support.TestFiles.WindowsExecutable();

    [Fact]
    public void Sniffs_the_true_type_and_looks_inside_zips_including_nested_ones()
    {
        var inner = Zip(("payload.scr", Exe));
        var view = View(null,
            ("report.pdf", "application/pdf", Exe),
            ("archive.zip", "application/zip", Zip(("readme.txt", "hi"u8.ToArray()), ("nested.zip", inner))));
        Assert.Contains(view.Attachments, a => a is { Name: "report.pdf", Extension: "pdf", SniffedType: "exe", Archive: null });
        Assert.Contains(view.Attachments, a => a is { Name: "readme.txt", Archive: "archive.zip" });
        Assert.Contains(view.Attachments, a => a is { Name: "payload.scr", SniffedType: "exe", Archive: "nested.zip in archive.zip" });
        Assert.Empty(view.Violations);
        Assert.Contains("Hello", view.BodyText);
        Assert.Contains("Click here & win", view.BodyText.Replace("  ", " "));
        Assert.DoesNotContain("evil", view.BodyText);
    }

    [Fact]
    public void A_zip_bomb_is_a_violation_not_a_clean_pass()
    {
        var bomb = Zip(("zeros.bin", new byte[5_000_000]));
        var view = View(null, ("bomb.zip", "application/zip", bomb));
        Assert.Contains(view.Violations, v => v.Contains("expands") && v.Contains("limit 100"));
    }

    [Fact]
    public void Too_deep_nesting_and_too_many_entries_are_violations()
    {
        var level3 = Zip(("a.txt", "x"u8.ToArray()));
        var level2 = Zip(("l3.zip", level3));
        var level1 = Zip(("l2.zip", level2));
        Assert.Contains(View(null, ("l1.zip", "application/zip", level1)).Violations, v => v.Contains("nested deeper than 2"));

        var many = Zip([.. Enumerable.Range(0, 20).Select(i => ($"f{i}.txt", "x"u8.ToArray()))]);
        Assert.Contains(View(MimeLimits.Default with { MaxArchiveEntries = 10 }, ("many.zip", "application/zip", many)).Violations, v => v.Contains("more than 10 entries"));
    }

    [Fact]
    public void Finds_macros_in_office_files()
    {
        var docm = Zip(("[Content_Types].xml", "<Types/>"u8.ToArray()), ("word/vbaProject.bin", new byte[100]));
        var ole = new byte[2048];
        new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1 }.CopyTo(ole, 0);
        Encoding.Unicode.GetBytes("_VBA_PROJECT").CopyTo(ole, 1000);
        var view = View(null, ("invoice.docx", "application/octet-stream", docm), ("old.doc", "application/msword", ole));
        Assert.Contains(view.Attachments, a => a is { Name: "invoice.docx", HasMacros: true });
        Assert.Contains(view.Attachments, a => a is { Name: "old.doc", SniffedType: "ole", HasMacros: true });
    }

    [Theory]
    [InlineData("invoice.pdf.exe", "exe", 2)]
    [InlineData("report.exe.", "exe", 1)]
    [InlineData("photo\u202Egpj.exe", "exe", 1)]
    [InlineData("README", "", 0)]
    public void Names_are_read_as_windows_would(string raw, string extension, int extensions)
    {
        var a = Attachment.Create(raw, "", "unknown", null);
        Assert.Equal(extension, a.Extension);
        Assert.Equal(extensions, a.Extensions.Count);
        Assert.Equal(raw.Contains('\u202E'), a.HadBidiControls);
        Assert.DoesNotContain('\u202E', a.Name);
    }

    [Fact]
    public void Html_nested_past_reason_is_a_violation()
    {
        var html = string.Concat(Enumerable.Repeat("<div>", 5000)) + "deep";
        var builder = new BodyBuilder { HtmlBody = html };
        var message = new MimeMessage { Subject = "deep", Body = builder.ToMessageBody() };
        var view = MessageView.Parse(SpoolOf(message), MimeLimits.Default);
        Assert.Contains(view.Violations, v => v.StartsWith("HTML part cannot be read", StringComparison.Ordinal));
    }

    [Fact]
    public void Collects_links_from_text_and_from_html_attributes()
    {
        var builder = new BodyBuilder
        {
            TextBody = "Visit https://www.example.test/path?q=1 today",
            HtmlBody = "<a href=\"http://login.evil.test/account\">your bank</a>",
        };
        var message = new MimeMessage { Subject = "links", Body = builder.ToMessageBody() };
        var hosts = MessageView.Parse(SpoolOf(message), MimeLimits.Default).Urls.Select(u => u.Host).ToList();
        Assert.Contains("www.example.test", hosts);
        Assert.Contains("login.evil.test", hosts);
    }

    [Fact]
    public void A_message_the_parser_gives_up_on_is_a_violation()
    {
        var view = MessageView.Parse(new MessageSpool(), MimeLimits.Default);
        Assert.Contains(view.Violations, v => v.StartsWith("the MIME structure cannot be read", StringComparison.Ordinal));
    }
}
