using System.Text;
using Gateway.Mime;
using MimeKit;

namespace Gateway.Tests.Detection;

/// <summary>Which parts of a message the HTML smuggling scan reads (MessageView.HtmlDocuments).</summary>
public class HtmlDocumentsTests
{
    [Fact]
    public void Html_bodies_and_html_or_svg_attachments_by_type_name_or_content_are_listed()
    {
        var builder = new BodyBuilder { TextBody = "Hello", HtmlBody = "<p>Hello</p>" };
        builder.Attachments.Add("page.htm", "<p>x</p>"u8.ToArray(), ContentType.Parse("application/octet-stream"));
        builder.Attachments.Add("logo.svg", "<svg/>"u8.ToArray(), ContentType.Parse("image/svg+xml"));
        builder.Attachments.Add("scan.pdf", "<!DOCTYPE html><html><script>x</script>"u8.ToArray(), ContentType.Parse("application/pdf"));
        builder.Attachments.Add("readme.txt", "plain words, no markup"u8.ToArray(), ContentType.Parse("text/plain"));
        builder.Attachments.Add("photo.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 }, ContentType.Parse("image/png"));
        var message = new MimeMessage { Subject = "files", Body = builder.ToMessageBody() };
        message.From.Add(MailboxAddress.Parse("a@sender.test"));
        using var spool = new MessageSpool();
        using (var ms = new MemoryStream())
        {
            message.WriteTo(ms);
            spool.Write(ms.ToArray());
        }

        var documents = MessageView.Parse(spool, MimeLimits.Default).HtmlDocuments;

        Assert.Equal(["(HTML body)", "page.htm", "logo.svg", "scan.pdf"], documents.Select(d => d.Name));
        Assert.Equal([false, false, true, false], documents.Select(d => d.IsSvg));
        Assert.Equal([false, true, true, true], documents.Select(d => d.IsAttachment));
        using var reader = documents[3].OpenText();
        Assert.StartsWith("<!DOCTYPE html>", reader.ReadToEnd());
    }

    [Fact]
    public void A_utf16_document_is_read_through_its_byte_order_mark()
    {
        var utf16 = new MimePart("text", "html") { FileName = "a.html", Content = new MimeContent(new MemoryStream([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("<script>navigator.msSaveBlob(b)</script>")])) };
        var document = new HtmlDocumentPart("a.html", false, true, utf16);
        using var reader = document.OpenText();
        Assert.Equal("script saves a file it built with msSaveOrOpenBlob", Gateway.Detection.HtmlSmugglingScanner.Scan(reader, false));
    }
}
