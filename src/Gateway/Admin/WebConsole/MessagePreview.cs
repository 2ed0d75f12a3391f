using System.Net;
using System.Text;
using HtmlAgilityPack;
using MimeKit;

namespace Gateway.Admin.WebConsole;

/// <summary>An attachment as the quarantine page lists it: never opened, only named.</summary>
public sealed record AttachmentInfo(string Name, string ContentType, long? Size);

/// <summary>
/// What the quarantine page shows of a held message: its headers, its text as text (the text/plain part; for an
/// HTML-only message the HTML's text content, never its markup), and its attachments' names and types.
/// Everything here is sender-controlled and is written to the page encoded.
/// </summary>
public sealed record MessagePreview(IReadOnlyList<(string Name, string Value)> Headers, string Text, bool TextFromHtml, bool Truncated, IReadOnlyList<AttachmentInfo> Attachments)
{
    /// <summary>Characters of text shown at most.</summary>
    public const int MaxText = 100_000;

    private const int MaxHeaders = 200;

    public static MessagePreview Read(Stream stream)
    {
        var parser = new MimeParser(new ParserOptions { MaxMimeDepth = 16 }, stream, persistent: false);
        var message = parser.ParseMessage();
        var headers = message.Headers.Take(MaxHeaders).Select(h => (h.Field, h.Value ?? "")).ToList();
        var text = message.TextBody;
        var fromHtml = false;
        if (text is null && message.HtmlBody is { } html)
        {
            text = TextOfHtml(html);
            fromHtml = true;
        }
        text ??= "";
        var truncated = text.Length > MaxText;
        if (truncated)
            text = text[..MaxText];
        var attachments = new List<AttachmentInfo>();
        foreach (var entity in message.BodyParts)
        {
            if (attachments.Count >= 500)
                break;
            var name = entity.ContentDisposition?.FileName ?? entity.ContentType.Name;
            if (!entity.IsAttachment && name is null)
                continue;
            long? size = entity is MimePart { Content: { Stream: { CanSeek: true } s } } ? s.Length : null;
            attachments.Add(new AttachmentInfo(name ?? "(no name)", entity.ContentType.MimeType, size));
        }
        return new MessagePreview(headers, text, fromHtml, truncated, attachments);
    }

    /// <summary>The text a reader would see: script, style and head dropped, blocks on their own lines, entities decoded.</summary>
    public static string TextOfHtml(string html)
    {
        var document = new HtmlDocument { OptionMaxNestedChildNodes = 1000 };
        document.LoadHtml(html);
        var b = new StringBuilder();
        Append(document.DocumentNode, b);
        var lines = b.ToString().Split('\n').Select(l => string.Join(' ', l.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)));
        return string.Join('\n', lines.Where((l, i) => l.Length > 0 || i == 0)).Trim();
    }

    private static void Append(HtmlNode node, StringBuilder b)
    {
        foreach (var child in node.ChildNodes)
        {
            switch (child.NodeType)
            {
                case HtmlNodeType.Text:
                    b.Append(WebUtility.HtmlDecode(child.InnerText));
                    break;
                case HtmlNodeType.Element:
                    var name = child.Name.ToLowerInvariant();
                    if (name is "script" or "style" or "head" or "template" or "noscript")
                        break;
                    var block = name is "p" or "div" or "br" or "tr" or "li" or "h1" or "h2" or "h3" or "h4" or "h5" or "h6" or "table" or "blockquote" or "pre" or "hr";
                    if (block)
                        b.Append('\n');
                    Append(child, b);
                    if (name == "a" && child.GetAttributeValue("href", null) is { Length: > 0 } href && !child.InnerText.Contains(href, StringComparison.Ordinal))
                        b.Append(" <").Append(href).Append('>');
                    if (block)
                        b.Append('\n');
                    break;
            }
        }
    }
}
