using System.Text;
using MimeKit;

namespace Gateway.Mime;

/// <summary>An HTML or SVG document in a message (the HTML body or an attachment), for checks that read markup.</summary>
public sealed record HtmlDocumentPart(string Name, bool IsSvg, bool IsAttachment, MimePart Part)
{
    /// <summary>The decoded text (charset from the part, or a byte order mark, else UTF-8), read as a stream.</summary>
    public TextReader OpenText()
    {
        if (Part is TextPart text && text.ContentType.Charset is { } charset)
        {
            try
            {
                var encoding = Encoding.GetEncoding(charset);
                return new StreamReader(Part.Content!.Open(), encoding, detectEncodingFromByteOrderMarks: true);
            }
            catch (ArgumentException)
            {
                // an unknown charset: the markup that matters is ASCII, UTF-8 reads it
            }
        }
        return new StreamReader(Part.Content!.Open(), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
    }
}

public sealed partial class MessageView
{
    /// <summary>HTML and SVG documents kept per message (the parts stay in memory with the parsed message anyway).</summary>
    private const int MaxHtmlDocuments = 50;

    private readonly List<HtmlDocumentPart> _htmlDocuments = [];

    /// <summary>
    /// The HTML and SVG documents of the message: text/html bodies, and attachments declared, named (.htm, .html,
    /// .xhtml, .shtml, .svg) or sniffed (their first bytes start with markup) as such. At most 50.
    /// </summary>
    public IReadOnlyList<HtmlDocumentPart> HtmlDocuments => _htmlDocuments;

    private void NoteHtml(MimeEntity entity)
    {
        if (entity is not MimePart part || part.Content is null || _htmlDocuments.Count >= MaxHtmlDocuments)
            return;
        var type = part.ContentType.MimeType.ToLowerInvariant();
        var name = part.FileName ?? "";
        var extension = Path.GetExtension(name.TrimEnd('.', ' ')).ToLowerInvariant();
        var attachment = part.IsAttachment || part.FileName is not null;
        bool? svg = type == "image/svg+xml" || extension == ".svg" ? true
            : type is "text/html" or "application/xhtml+xml" || extension is ".htm" or ".html" or ".xhtml" or ".shtml" ? false
            : null;
        if (svg is null && attachment)
            svg = SniffMarkup(part);
        if (svg is { } isSvg)
        {
            if (_detach)
                Detach(part);
            _htmlDocuments.Add(new HtmlDocumentPart(name.Length > 0 ? name : attachment ? "(unnamed attachment)" : "(HTML body)", isSvg, attachment, part));
        }
    }

    /// <summary>Bytes of HTML and SVG content kept in memory per message, past which a document is kept cut short.</summary>
    private const long MaxHtmlBytes = 32L * 1024 * 1024;

    private long _htmlBytes;

    /// <summary>Whether the parse's stream closes after the walk (a view of its own), so documents need copies.</summary>
    private bool _detach;

    /// <summary>
    /// The message is parsed with its parts as substreams of the spool, which is closed once the view is built; a
    /// document read later by the HTML checks gets its own copy of its (still encoded) content, within
    /// <see cref="MaxHtmlBytes"/> per message.
    /// </summary>
    private void Detach(MimePart part)
    {
        if (part.Content is not { } content)
            return;
        var copy = new MemoryStream();
        try
        {
            var source = content.Stream ?? throw new IOException("the part has no content stream");
            source.Position = 0;
            var budget = Math.Max(0, MaxHtmlBytes - _htmlBytes);
            var buffer = new byte[81920];
            int n;
            while (copy.Length < budget && (n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, budget - copy.Length))) > 0)
                copy.Write(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or NotSupportedException or ObjectDisposedException)
        {
            // What could be read is kept; the checks see that much of the document.
        }
        _htmlBytes += copy.Length;
        copy.Position = 0;
        part.Content = new MimeContent(copy, content.Encoding);
    }

    /// <summary>
    /// An HTML or SVG file found in an archive: a copy of it (within <see cref="MaxHtmlBytes"/> per message) is
    /// kept as a document for the HTML checks.
    /// </summary>
    private void NoteArchivedHtml(string name, bool isSvg, Stream content)
    {
        if (_htmlDocuments.Count >= MaxHtmlDocuments)
            return;
        var copy = new MemoryStream();
        var buffer = new byte[81920];
        var budget = Math.Max(0, MaxHtmlBytes - _htmlBytes);
        int n;
        while (copy.Length < budget && (n = content.Read(buffer, 0, (int)Math.Min(buffer.Length, budget - copy.Length))) > 0)
            copy.Write(buffer, 0, n);
        _htmlBytes += copy.Length;
        copy.Position = 0;
        _htmlDocuments.Add(new HtmlDocumentPart(name, isSvg, true, new MimePart("text", isSvg ? "xml" : "html") { Content = new MimeContent(copy) }));
    }

    /// <summary>A file named (.htm, .html, .xhtml, .shtml, .svg) or starting as HTML or SVG: true for SVG, false for HTML, null for neither.</summary>
    internal static bool? MarkupKind(string name, ReadOnlySpan<byte> head)
    {
        var extension = Path.GetExtension(name.TrimEnd('.', ' ')).ToLowerInvariant();
        return extension == ".svg" ? true
            : extension is ".htm" or ".html" or ".xhtml" or ".shtml" ? false
            : SniffMarkup(head);
    }

    /// <summary>An attachment whose first bytes are markup: true for SVG, false for HTML, null for neither.</summary>
    private static bool? SniffMarkup(MimePart part)
    {
        try
        {
            using var content = part.Content!.Open();
            var head = new byte[FileTypes.SniffLength];
            var n = content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            return SniffMarkup(head.AsSpan(0, n));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
        {
            return null;
        }
    }

    private static bool? SniffMarkup(ReadOnlySpan<byte> head)
    {
        var text = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n').ToLowerInvariant();
        if (text.StartsWith("<svg", StringComparison.Ordinal) || (text.StartsWith("<?xml", StringComparison.Ordinal) && text.Contains("<svg", StringComparison.Ordinal)))
            return true;
        if (text.StartsWith("<!doctype html", StringComparison.Ordinal) || text.StartsWith("<html", StringComparison.Ordinal)
            || text.StartsWith("<script", StringComparison.Ordinal) || text.StartsWith("<head", StringComparison.Ordinal)
            || text.StartsWith("<body", StringComparison.Ordinal))
            return false;
        return null;
    }
}
