using System.Net;
using System.Text;
using MimeKit;

namespace Gateway.Mime;

/// <summary>
/// A message as content rules see it: its attachments (MIME parts and the entries of the archives in them, with
/// their sniffed types: see <see cref="ArchiveInspector"/>) and its text (text/plain, and text/html turned into
/// text). Parsed with MimeKit under explicit limits; whatever exceeds one is listed in <see cref="Violations"/>
/// and is never reported as clean.
/// </summary>
public sealed partial class MessageView
{
    private const int MaxBodyText = 1024 * 1024;

    private readonly List<Attachment> _attachments = [];
    private readonly List<string> _violations = [];
    private readonly StringBuilder _text = new();
    private readonly MimeLimits _limits;
    private int _parts;

    private MessageView(MimeLimits limits) => _limits = limits;

    public IReadOnlyList<Attachment> Attachments => _attachments;

    /// <summary>The limits this message exceeded, empty when it was inspected whole.</summary>
    public IReadOnlyList<string> Violations => _violations;

    /// <summary>Built once, on first use: every body rule reads the same text.</summary>
    public string BodyText => _bodyText ??= _text.ToString();

    private string? _bodyText;

    /// <summary>The http(s) links in the text parts, HTML attributes included (at most 1,000).</summary>
    public IReadOnlyList<Uri> Urls => _urls;

    private readonly List<Uri> _urls = [];

    /// <summary>
    /// Links are kept up to 1,000; past that only links to hosts not seen yet, so that a link is never hidden behind
    /// a thousand harmless ones. Links to more than 1,000 hosts, or more than 100,000 links, make the message
    /// uninspectable.
    /// </summary>
    private const int MaxUrls = 1000;

    private const int MaxLinkCandidates = 100_000;

    private readonly HashSet<string> _urlHosts = new(StringComparer.OrdinalIgnoreCase);
    private int _linkCandidates;

    private void CollectUrls(string text)
    {
        foreach (var candidate in UrlScan.Candidates(text))
            AddUrl(candidate);
    }

    private void AddUrl(string candidate)
    {
        if (++_linkCandidates > MaxLinkCandidates)
        {
            Violate($"more than {MaxLinkCandidates} links");
            return;
        }
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            return;
        if (_urlHosts.Contains(uri.Host))
        {
            if (_urls.Count < MaxUrls)
                _urls.Add(uri);
            return;
        }
        if (_urlHosts.Count >= MaxUrls)
        {
            Violate($"links to more than {MaxUrls} hosts");
            return;
        }
        _urlHosts.Add(uri.Host);
        _urls.Add(uri);
    }

    public static MessageView Parse(MessageSpool spool, MimeLimits limits) => Parse(spool, limits, TimeProvider.System);

    /// <summary>A message of its own (tests, benchmarks): parsed here, its stream closed once the view is built.</summary>
    /// <param name="time">Measures the time spent listing archives (<see cref="MimeLimits.MaxArchiveTime"/>).</param>
    public static MessageView Parse(MessageSpool spool, MimeLimits limits, TimeProvider time)
    {
        using var stream = spool.OpenRead();
        // MaxMimeDepth is set explicitly: a stack overflow on deep nesting cannot be caught. One level more than
        // the limit, so that going over it is seen. persistent: parts stay substreams of the spool instead of
        // copies in memory (an attachment of 20 MB is not held twice); HTML documents get copies (Detach), since
        // the stream is closed after the walk.
        return Of(() => new MimeParser(new ParserOptions { MaxMimeDepth = limits.MaxDepth + 1 }, stream, persistent: true).ParseMessage(), limits, time, detach: true);
    }

    /// <summary>
    /// The view of a transaction's one parse (<see cref="Session.Transaction.ParsedMessage"/>), whose spool stays
    /// open while the transaction lasts: HTML documents are read in place.
    /// </summary>
    public static MessageView Of(Func<MimeMessage> parsed, MimeLimits limits, TimeProvider time) => Of(parsed, limits, time, detach: false);

    private static MessageView Of(Func<MimeMessage> parse, MimeLimits limits, TimeProvider time, bool detach)
    {
        var view = new MessageView(limits) { _time = time, _detach = detach };
        try
        {
            var message = parse();
            if (message.Body is { } body)
                view.Walk(body, 0);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or NotSupportedException or ArgumentException)
        {
            // Hostile structure MimeKit gives up on: the message was not inspected, which is a verdict of its own.
            view.Violate($"the MIME structure cannot be read ({e.GetType().Name})");
        }
        return view;
    }

    private void Walk(MimeEntity entity, int depth)
    {
        if (depth > _limits.MaxDepth)
        {
            Violate($"MIME nesting deeper than {_limits.MaxDepth}");
            return;
        }
        if (++_parts > _limits.MaxParts)
        {
            Violate($"more than {_limits.MaxParts} MIME parts");
            return;
        }
        if (Ambiguous(entity) is { } header)
        {
            Violate($"{header} given twice with different values");
            return;
        }
        NoteHtml(entity);
        switch (entity)
        {
            case Multipart multipart:
                foreach (var child in multipart)
                    Walk(child, depth + 1);
                break;
            case MessagePart { Message.Body: { } inner }:
                Walk(inner, depth + 1);
                break;
            case TextPart text when text.FileName is null && !text.IsAttachment:
                AppendText(text);
                break;
            case MimeKit.Tnef.TnefPart tnef:
                Inspect(tnef);
                WalkTnef(tnef, depth);
                break;
            case MimePart part when part.ContentType.IsMimeType("message", "rfc822") || part.ContentType.IsMimeType("message", "global"):
                WalkEncodedMessage(part, depth);
                break;
            case MimePart part:
                Inspect(part);
                break;
        }
    }

    private static readonly HeaderId[] Unique = [HeaderId.ContentType, HeaderId.ContentTransferEncoding, HeaderId.ContentDisposition];

    /// <summary>
    /// A part's structure given twice, differently: MimeKit reads the first Content-Type (or encoding, or
    /// disposition), other readers the last, so the part a client shows may not be the part the rules saw (a text
    /// body here, a multipart with an executable there). Which one a client takes cannot be known: the part is
    /// not inspectable. The same value twice is harmless.
    /// </summary>
    private static string? Ambiguous(MimeEntity entity)
    {
        foreach (var id in Unique)
        {
            string? first = null;
            foreach (var header in entity.Headers)
            {
                if (header.Id != id)
                    continue;
                var value = string.Concat(header.Value.Where(c => !char.IsWhiteSpace(c))).ToLowerInvariant();
                if (first is null)
                    first = value;
                else if (first != value)
                    return header.Field;
            }
        }
        return null;
    }

    /// <summary>
    /// A message/rfc822 part in base64 or quoted-printable, which MimeKit leaves a leaf: Thunderbird and Gmail
    /// decode it and show the forwarded message with its attachments, so it is decoded and walked here too.
    /// </summary>
    private void WalkEncodedMessage(MimePart part, int depth)
    {
        if (part.Content is null)
            return;
        // Its header blocks were encoded, out of the whole message's checks: the same limits before MimeKit reads them.
        string? violation;
        using (var content = part.Content.Open())
            violation = HeaderBlock.CheckLimits(content, _limits);
        if (violation is null)
        {
            using var content = part.Content.Open();
            violation = NestedHeaders.Check(content, _limits, skipTop: false);
        }
        if (violation is not null)
        {
            Violate($"an embedded message: {violation}");
            return;
        }
        MimeMessage inner;
        using (var content = part.Content.Open())
            inner = MimeMessage.Load(new ParserOptions { MaxMimeDepth = _limits.MaxDepth + 1 }, content);
        if (inner.Body is { } body)
            Walk(body, depth + 1);
    }

    /// <summary>
    /// The files inside a winmail.dat (TNEF), which Outlook and Gmail show as the message's own attachments:
    /// extracted by MimeKit and walked as parts. One that cannot be read was not inspected.
    /// </summary>
    private void WalkTnef(MimeKit.Tnef.TnefPart tnef, int depth)
    {
        List<MimeEntity> inner;
        try
        {
            inner = [.. tnef.ExtractAttachments()];
        }
        catch (MimeKit.Tnef.TnefException e)
        {
            Violate($"{tnef.FileName ?? "winmail.dat"}: not a readable TNEF file ({e.Message})");
            return;
        }
        foreach (var entity in inner)
            Walk(entity, depth + 1);
    }

    private void Violate(string what)
    {
        // Names inside come from the sender (archive and entry names, a library's exception text), and the first
        // violation goes into the SMTP reply: keep it to a line.
        if (what.Length > 300)
            what = what[..297] + "...";
        if (!_violations.Contains(what))
            _violations.Add(what);
    }

    private void AppendText(TextPart part)
    {
        if (_text.Length >= MaxBodyText)
            return;
        var text = part.Text ?? "";
        // The whole text: a link after a megabyte of padding is still a link.
        CollectUrls(text);
        if (!part.IsHtml)
            InspectEmbedded(text);
        if (part.IsHtml)
        {
            try
            {
                text = HtmlToText(text, AddLink);
                CollectUrls(text); // clients make links of addresses in the text, references decoded
            }
            catch (Exception e) // a third-party parser on hostile input: whatever it throws, the part was not read
            {
                Violate($"HTML part cannot be read ({e.Message})");
                return;
            }
        }
        _text.Append(text.AsSpan(0, Math.Min(text.Length, MaxBodyText - _text.Length))).Append('\n');
    }

    /// <summary>
    /// What a reader would see, roughly: the text of the document (HtmlAgilityPack, which reads broken HTML as a
    /// browser would) without scripts, styles and the head, entities decoded. At most 1 MB of HTML is read.
    /// </summary>
    public static string HtmlToText(string html) => HtmlToText(html, null);

    private void AddLink(string attribute)
    {
        if (HtmlLinks.Target(attribute) is { } target)
            AddUrl(target);
    }

    /// <param name="attribute">Given every attribute value of the document, references decoded (links in href, src, action...).</param>
    private static string HtmlToText(string html, Action<string>? attribute)
    {
        var document = new HtmlAgilityPack.HtmlDocument { OptionMaxNestedChildNodes = 256 };
        document.LoadHtml(html.Length > MaxBodyText ? html[..MaxBodyText] : html);
        foreach (var node in document.DocumentNode.Descendants().Where(n => n.Name is "script" or "style" or "head").ToList())
            node.Remove();
        var text = new StringBuilder();
        foreach (var node in document.DocumentNode.DescendantsAndSelf())
        {
            if (node.NodeType == HtmlAgilityPack.HtmlNodeType.Text)
                text.Append(HtmlLinks.Decode(node.InnerText)).Append(' ');
            else if (attribute is not null && node.NodeType == HtmlAgilityPack.HtmlNodeType.Element)
            {
                foreach (var a in node.Attributes)
                    attribute(HtmlLinks.Decode(a.Value ?? ""));
            }
        }
        return text.ToString();
    }

    private void Inspect(MimePart part)
    {
        var declared = part.ContentType.MimeType.ToLowerInvariant();
        if (part.Content is null)
        {
            _attachments.Add(Attachment.Create(part.FileName, declared, "unknown", null));
            foreach (var other in OtherNames(part, part.FileName))
                _attachments.Add(Attachment.Create(other, declared, "unknown", null));
            return;
        }
        // The first bytes tell the type; archives are listed as they are decoded, old Office files read whole
        // (within the limits) for their macros.
        using var content = part.Content.Open();
        var head = new byte[FileTypes.SniffLength];
        var n = content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var sniffed = FileTypes.Sniff(head.AsSpan(0, n));
        var name = part.FileName;
        var macros = false;
        var encrypted = false;
        if (FileTypes.IsDisguisedArchive(name, sniffed))
            Violate($"{name}: named as an archive but does not start as one");
        if (FileTypes.IsArchive(sniffed))
        {
            _archives ??= new ArchiveInspector(_limits, _attachments, Violate, _time, NoteArchivedHtml);
            var outcome = _archives.Inspect(new PrefixedStream(head, n, content), sniffed, name ?? "(unnamed)", 1);
            (macros, encrypted) = (outcome.Macros, outcome.Encrypted);
        }
        else if (sniffed == "ole")
        {
            using var whole = new MemoryStream();
            whole.Write(head, 0, n);
            if (!CopyBounded(content, whole, _limits.MaxArchiveBytes))
                Violate($"{name ?? "(unnamed)"}: larger than {_limits.MaxArchiveBytes} bytes decoded");
            macros = HasVbaProject(whole.GetBuffer().AsSpan(0, (int)whole.Length));
        }
        _attachments.Add(Attachment.Create(name, declared, sniffed, null, macros) with { Encrypted = encrypted });
        foreach (var other in OtherNames(part, name))
            _attachments.Add(Attachment.Create(other, declared, sniffed, null, macros) with { Encrypted = encrypted });
    }

    /// <summary>
    /// The names a client may show for the part besides MimeKit's <see cref="MimePart.FileName"/> (Content-
    /// Disposition's filename first): Content-Type's name when it differs, and a name cut at a NUL (where Windows'
    /// C APIs end it: "a.js\0.txt" is saved as a.js). Each is inspected as the same attachment.
    /// </summary>
    private static IEnumerable<string> OtherNames(MimePart part, string? name)
    {
        string?[] given = [part.ContentDisposition?.FileName, part.ContentType.Name];
        var names = new List<string>();
        foreach (var candidate in given)
        {
            if (candidate is null)
                continue;
            names.Add(candidate);
            if (candidate.IndexOf('\0') is var nul and >= 0)
                names.Add(candidate[..nul]);
        }
        return names.Distinct().Where(n => n != name);
    }

    /// <summary>The first line of a uuencoded ("begin 644 name") or yEnc ("=ybegin ... name=name") file in a text.</summary>
    private static readonly System.Text.RegularExpressions.Regex Embedded = new(
        @"^(?:begin [0-7]{3,4} (?<uu>[^\r\n]+?)|=ybegin [^\r\n]*?name=(?<y>[^\r\n]+?))\r?$",
        System.Text.RegularExpressions.RegexOptions.Multiline | System.Text.RegularExpressions.RegexOptions.CultureInvariant
        | System.Text.RegularExpressions.RegexOptions.NonBacktracking);

    /// <summary>
    /// Files uuencoded or yEnc-encoded inside a plain text body, which Thunderbird shows as attachments of their
    /// names (and older Outlook versions did): each is decoded (MimeKit's decoders) and inspected as an attachment.
    /// </summary>
    private void InspectEmbedded(string text)
    {
        // Both first lines hold "begin " ("=ybegin "): a vectorised search spares nearly every text the regex.
        if (!text.Contains("begin ", StringComparison.Ordinal))
            return;
        foreach (System.Text.RegularExpressions.Match match in Embedded.Matches(text))
        {
            if (++_parts > _limits.MaxParts)
            {
                Violate($"more than {_limits.MaxParts} MIME parts");
                return;
            }
            var uu = match.Groups["uu"].Success;
            var name = (uu ? match.Groups["uu"] : match.Groups["y"]).Value.Trim();
            // To the block's last line ("end", "=yend"), or the end of the text.
            var end = text.IndexOf(uu ? "\nend" : "\n=yend", match.Index, StringComparison.Ordinal);
            end = end < 0 ? text.Length : Math.Min(text.Length, end + 80);
            var input = Encoding.Latin1.GetBytes(text[match.Index..end]);
            MimeKit.Encodings.IMimeDecoder decoder = uu ? new MimeKit.Encodings.UUDecoder() : new MimeKit.Encodings.YDecoder();
            var output = new byte[decoder.EstimateOutputLength(input.Length)];
            var length = decoder.Decode(input, 0, input.Length, output);
            Inspect(new MimePart("text", "plain") { FileName = name, Content = new MimeContent(new MemoryStream(output, 0, length)) });
        }
    }

    private ArchiveInspector? _archives;
    private TimeProvider _time = TimeProvider.System;

    /// <summary>The encrypted archives and archive entries found (their content could not be inspected).</summary>
    public IReadOnlyList<string> EncryptedArchives => _archives?.Encrypted ?? [];

    /// <returns>false when the source had more than <paramref name="max"/> bytes (the rest is not read).</returns>
    private static bool CopyBounded(Stream source, Stream target, long max)
    {
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = source.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += n;
            if (total > max)
                return false;
            target.Write(buffer, 0, n);
        }
        return true;
    }

    /// <summary>An OLE2 (old Office) file with a VBA project: its storage names are UTF-16.</summary>
    private static bool HasVbaProject(ReadOnlySpan<byte> ole) =>
        ole.IndexOf(Encoding.Unicode.GetBytes("_VBA_PROJECT")) >= 0;
}
