using System.Runtime.InteropServices;
using MimeKit;

namespace Gateway.Detection.Bayes;

/// <summary>
/// One feature of a message: its 64-bit id (what the store counts) and its text (for explain), kept in the
/// message's shared character buffer and made a string only when asked for.
/// </summary>
public readonly struct BayesToken
{
    private readonly TokenArena? _arena;
    private readonly string? _text;
    private readonly int _start, _length;

    public BayesToken(ulong id, string text)
    {
        Id = id;
        _text = text;
    }

    internal BayesToken(ulong id, TokenArena arena, int start, int length)
    {
        Id = id;
        _arena = arena;
        _start = start;
        _length = length;
    }

    public ulong Id { get; }

    public string Text => _text ?? _arena?.ToString(_start, _length) ?? "";

    public override string ToString() => Text;
}

/// <summary>The characters of one message's tokens, appended one after the other.</summary>
internal sealed class TokenArena
{
    private char[] _chars = new char[4096];
    private int _used;

    public int Append(ReadOnlySpan<char> text)
    {
        if (_used + text.Length > _chars.Length)
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _used + text.Length));
        text.CopyTo(_chars.AsSpan(_used));
        var start = _used;
        _used += text.Length;
        return start;
    }

    public string ToString(int start, int length) => new(_chars, start, length);
}

/// <summary>How much of a message the tokenizer reads, so that a huge or hostile message costs bounded time.</summary>
/// <param name="MaxTokens">Distinct tokens taken from one message; the rest are ignored.</param>
/// <param name="MaxTokenLength">Longer words become a "sk:" token of their first letters and length.</param>
/// <param name="MaxTextChars">Characters of decoded text (and of HTML source) read per message.</param>
public sealed record BayesLimits(int MaxTokens, int MaxTokenLength, int MaxTextChars)
{
    public static readonly BayesLimits Default = new(3000, 24, 24_576);
}

/// <summary>
/// Turns a message into the set of tokens the classifier counts, each prefixed by where it was found:
/// chosen headers by name ("s:" subject words, "f:" sender, "h:" header names present...; not those written on delivery),
/// body words of the text and HTML parts (HTML turned into text with HtmlAgilityPack, plus the names of the tags
/// used), adjacent word pairs, URL hosts and path words, and attachment names and types. Dates and numbers that
/// change with every message are left out or reduced to their shape. Written here because the tokenizer is the
/// classifier: what Rspamd, SpamAssassin and bogofilter each do is specific to them.
/// </summary>
public sealed class BayesTokenizer(BayesLimits limits)
{
    private const int MaxHeaders = 200;
    private const int MaxUrls = 100;
    private const int MaxParts = 100;
    private const int MaxPairedWords = 1000;

    public BayesLimits Limits { get; } = limits;

    /// <summary>Parses the message (MimeKit, bounded depth) and tokenizes it.</summary>
    public IReadOnlyList<BayesToken> Tokenize(Stream message)
    {
        MimeMessage parsed;
        try
        {
            parsed = MimeMessage.Load(new ParserOptions { MaxMimeDepth = 16 }, message);
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
        {
            return [new BayesToken(Hash("x:unparsable"), "x:unparsable")];
        }
        return Tokenize(parsed);
    }

    public IReadOnlyList<BayesToken> Tokenize(MimeMessage message)
    {
        var sink = new Sink(Limits);
        AddHeaders(message, sink);
        var textBudget = Limits.MaxTextChars;
        var parts = 0;
        foreach (var entity in message.BodyParts)
        {
            if (++parts > MaxParts || sink.Full)
                break;
            AddPart(entity, sink, ref textBudget);
        }
        if (parts == 0)
            sink.Add("x:nobody");
        return sink.Tokens;
    }

    private static void AddHeaders(MimeMessage message, Sink sink)
    {
        var count = 0;
        var previousName = "";
        bool date = false, messageId = false, from = false;
        foreach (var header in message.Headers)
        {
            if (++count > MaxHeaders)
                break;
            var name = header.Field.ToLowerInvariant();
            if (AddedOnDelivery(name))
                continue;
            sink.Add("h:" + name);
            // The order of the headers the sending software writes (Return-Path, written on delivery, left out):
            // mailers, list servers and spamware each have their own.
            if (name != "return-path")
            {
                if (count <= 40)
                    sink.Add("ho:" + previousName + ">" + name);
                previousName = name;
            }
            if (name is "subject" or "from" or "to" or "reply-to")
                EncodedWordCharsets(header.RawValue, sink);
            var value = header.Value ?? "";
            if (value.Length > 1000)
                value = value[..1000];
            switch (name)
            {
                case "subject":
                    sink.Words("s:", value, pairs: true);
                    break;
                case "from":
                case "reply-to":
                case "sender":
                case "return-path":
                    Addresses(name switch { "reply-to" => "rt:", "return-path" => "rp:", _ => "f:" }, value, sink);
                    from |= name == "from";
                    break;
                case "to":
                case "cc":
                    // How many, and the display names ("undisclosed recipients"), not the addresses: those are the
                    // protected site's own users, the same for ham and spam.
                    Addresses("to:", value, sink, names: true);
                    sink.Add(name + ":count:" + Bucket(value.Count(c => c == '@')));
                    break;
                case "message-id":
                    messageId = true;
                    MessageId(value, sink);
                    break;
                case "date":
                    date = true;
                    DateShape(value, sink);
                    break;
                case "x-mailer":
                case "user-agent":
                    sink.Words("xm:", value, pairs: false);
                    break;
                case "content-type":
                    sink.Words("ct:", value, pairs: false);
                    if (ContentType.TryParse(value, out var type) && type.Boundary is { Length: > 0 } boundary)
                        sink.Add("ct:boundary:" + Shape(boundary));
                    break;
                case "content-transfer-encoding":
                case "precedence":
                case "x-priority":
                case "x-msmail-priority":
                case "importance":
                case "mime-version":
                case "list-id":
                case "x-mailing-list":
                case "list-unsubscribe":
                case "organization":
                    sink.Words(name + ":", value, pairs: false);
                    break;
            }
        }
        if (!date)
            sink.Add("x:nodate");
        if (!messageId)
            sink.Add("x:nomessageid");
        if (!from)
            sink.Add("x:nofrom");
    }

    /// <summary>
    /// The charsets of a header's RFC 2047 encoded words ("=?gb2312?B?...?="), as "hcs:gb2312": the language a
    /// sender writes in, which the decoded text alone shows only as letters of a script.
    /// </summary>
    private static void EncodedWordCharsets(byte[] raw, Sink sink)
    {
        var span = raw.AsSpan(0, Math.Min(raw.Length, 2000));
        for (var at = span.IndexOf("=?"u8); at >= 0; at = span.IndexOf("=?"u8))
        {
            span = span[(at + 2)..];
            var end = span.IndexOf((byte)'?');
            if (end <= 0 || end > 40)
                continue;
            var charset = span[..end];
            var star = charset.IndexOf((byte)'*'); // RFC 2231 language: =?utf-8*en?
            if (star >= 0)
                charset = charset[..star];
            sink.Add("hcs:", System.Text.Encoding.ASCII.GetString(charset));
            span = span[end..];
        }
    }

    /// <summary>0, 1, 2, 3-5, 6-10, 11+.</summary>
    private static string Bucket(int n) => n switch { <= 2 => n.ToString(System.Globalization.CultureInfo.InvariantCulture), <= 5 => "3-5", <= 10 => "6-10", _ => "11+" };

    /// <summary>
    /// The Date header's form ("Aa, 9 Aa 9 9:9:9 +9", digits and letters collapsed) and its zone as written
    /// ("-0400", "EDT", "+0000 (GMT)"): each sending program writes dates its own way, and forged ones are odd.
    /// </summary>
    private static void DateShape(string value, Sink sink)
    {
        var text = value.Trim();
        sink.Add("date:shape:" + Shape(text));
        var space = text.LastIndexOf(' ');
        var zone = space < 0 ? "" : text[(space + 1)..];
        if (zone.StartsWith('(') && space > 0)
        {
            var before = text[..space].TrimEnd().LastIndexOf(' ');
            zone = before < 0 ? zone : text[(before + 1)..];
        }
        sink.Add("date:zone:" + (zone.Length > 16 ? zone[..16] : zone));
    }

    /// <summary>
    /// Headers the receiving site writes after the gateway has passed the message on (final delivery, the mailbox,
    /// its filters): a mailbox copy learned from carries them, a message the gateway scores never does, so they
    /// would teach the classifier who collected the mail rather than who sent it. Received lines are among them:
    /// the hops a mailbox copy shows first are the receiving site's own relays; the gateway judges the relay that
    /// really connected through SPF, DNS lists and its rules.
    /// </summary>
    private static bool AddedOnDelivery(string name) =>
        name is "received" or "delivered-to" or "x-original-to" or "envelope-to" or "delivery-date" or "x-status" or "x-keywords"
            or "x-uid" or "status" or "lines" or "content-length" or "x-envelope-to" or "x-envelope-from"
        || name.StartsWith("x-spam-", StringComparison.Ordinal);

    private static void Addresses(string prefix, string value, Sink sink, bool names = false)
    {
        // Display names by word, addresses by local part and domain (and its parent domains).
        foreach (var word in value.Split([' ', ',', '<', '>', '"', '(', ')', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var at = word.IndexOf('@');
            if (at < 0)
            {
                sink.Words(prefix, word, pairs: false);
                continue;
            }
            if (names)
                continue;
            sink.Add(prefix + "user:" + Shape(word[..at]));
            Domain(prefix + "dom:", word[(at + 1)..].TrimEnd('.'), sink);
        }
    }

    private static void Domain(string prefix, string domain, Sink sink)
    {
        domain = domain.ToLowerInvariant();
        if (domain.Length is 0 or > 255)
            return;
        sink.Add(prefix + domain);
        var dot = domain.IndexOf('.');
        var labels = 0;
        while (dot > 0 && dot < domain.Length - 1 && ++labels < 4)
        {
            domain = domain[(dot + 1)..];
            sink.Add(prefix + domain);
            dot = domain.IndexOf('.');
        }
    }

    private static void MessageId(string value, Sink sink)
    {
        var id = value.Trim().Trim('<', '>');
        var at = id.LastIndexOf('@');
        if (at < 0)
        {
            sink.Add("mid:noat");
            return;
        }
        sink.Add("mid:shape:" + Shape(id[..at]));
        Domain("mid:", id[(at + 1)..], sink);
    }

    /// <summary>The form of an identifier without its digits and letters: "a9.a" for "abc123.xyz" (bounded).</summary>
    private static string Shape(string text)
    {
        var shape = new System.Text.StringBuilder();
        var last = '\0';
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, 64)))
        {
            var k = char.IsAsciiDigit(c) ? '9' : char.IsAsciiLetterLower(c) ? 'a' : char.IsAsciiLetterUpper(c) ? 'A' : char.IsLetter(c) ? 'u' : c;
            if (k != last)
                shape.Append(k);
            last = k;
        }
        return shape.ToString();
    }

    private void AddPart(MimeEntity entity, Sink sink, ref int textBudget)
    {
        var type = entity.ContentType;
        sink.Add("part:" + type.MimeType.ToLowerInvariant());
        if (type.Charset is { Length: > 0 } charset)
            sink.Add("charset:" + charset.ToLowerInvariant());
        if (entity is MimePart { ContentTransferEncoding: var cte } && cte != ContentEncoding.Default)
            sink.Add("cte:" + cte.ToString().ToLowerInvariant());
        var fileName = (entity as MimePart)?.FileName;
        if (fileName is not null || entity.IsAttachment)
        {
            sink.Add("att:type:" + type.MimeType.ToLowerInvariant());
            if (fileName is { Length: > 0 })
            {
                sink.Words("att:", fileName, pairs: false);
                var dot = fileName.TrimEnd('.', ' ').LastIndexOf('.');
                sink.Add("att:ext:" + (dot < 0 ? "" : fileName.TrimEnd('.', ' ')[(dot + 1)..].ToLowerInvariant()));
            }
            return;
        }
        if (entity is not TextPart text || textBudget <= 0)
            return;
        string content;
        try
        {
            content = text.Text ?? "";
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            sink.Add("x:undecodable");
            return;
        }
        if (content.Length > textBudget)
            content = content[..textBudget];
        textBudget -= content.Length;
        if (text.IsHtml)
            Html(content, sink);
        else
        {
            Urls(content, sink);
            sink.Words("", content, pairs: true);
        }
    }

    private static void Html(string html, Sink sink)
    {
        var document = new HtmlAgilityPack.HtmlDocument { OptionMaxNestedChildNodes = 256 };
        try
        {
            document.LoadHtml(html);
        }
        catch (Exception) // a third-party parser on hostile input: whatever it throws, the part is one token
        {
            sink.Add("x:badhtml");
            return;
        }
        var text = new System.Text.StringBuilder(html.Length / 2);
        var skip = 0;
        Walk(document.DocumentNode, sink, text, ref skip);
        Urls(text.ToString(), sink);
        sink.Words("", text.ToString(), pairs: true);
    }

    /// <summary>
    /// The text as a reader sees it: inline elements and comments do not split a word ("V&lt;!-- x --&gt;iagra",
    /// "V&lt;b&gt;&lt;/b&gt;iagra" read "Viagra"), block elements and line breaks do; text the reader cannot see
    /// (display:none, visibility:hidden, a font size of 0 or 1 pixel, white text where the page is white) is left
    /// out and marked with one "html:hidden" token, since spammers fill it with words of ordinary mail.
    /// </summary>
    private static void Walk(HtmlAgilityPack.HtmlNode node, Sink sink, System.Text.StringBuilder text, ref int depth, bool whitePage = true)
    {
        foreach (var child in node.ChildNodes)
        {
            switch (child.NodeType)
            {
                case HtmlAgilityPack.HtmlNodeType.Text:
                    text.Append(System.Net.WebUtility.HtmlDecode(child.InnerText));
                    break;
                case HtmlAgilityPack.HtmlNodeType.Element:
                    var name = child.Name;
                    sink.Add("tag:", name.AsSpan(0, Math.Min(name.Length, 16)));
                    foreach (var attribute in child.Attributes)
                    {
                        if (attribute.Name is "href" or "src" or "action")
                            Url(attribute.Value ?? "", sink);
                    }
                    if (name is "script" or "style" or "head")
                        continue;
                    var block = BlockElements.Contains(name);
                    if (block)
                        text.Append(' ');
                    var page = whitePage;
                    if (name is "body" or "table" or "td" or "tr" && child.GetAttributeValue("bgcolor", null) is { } background)
                        page = IsWhite(background);
                    if (Hidden(child, page))
                    {
                        sink.Add("html:hidden");
                        continue;
                    }
                    if (depth < 64)
                    {
                        depth++;
                        Walk(child, sink, text, ref depth, page);
                        depth--;
                    }
                    if (block)
                        text.Append(' ');
                    break;
            }
        }
    }

    private static readonly HashSet<string> BlockElements = new(StringComparer.Ordinal)
    {
        "p", "div", "br", "td", "th", "tr", "table", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "blockquote", "pre", "center", "title", "form", "dl", "dt", "dd", "address", "img", "option", "select",
    };

    private static bool Hidden(HtmlAgilityPack.HtmlNode element, bool whitePage)
    {
        if (element.GetAttributeValue("style", null) is { } style)
        {
            var compact = style.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
            if (compact.Contains("display:none", StringComparison.Ordinal) || compact.Contains("visibility:hidden", StringComparison.Ordinal)
                || compact.Contains("font-size:0", StringComparison.Ordinal) || compact.Contains("font-size:1px", StringComparison.Ordinal)
                || (whitePage && (compact.Contains(";color:#fff", StringComparison.Ordinal) || compact.StartsWith("color:#fff", StringComparison.Ordinal)
                    || compact.Contains("color:white", StringComparison.Ordinal) && !compact.Contains("background", StringComparison.Ordinal))))
                return true;
        }
        return element.Name == "font" && whitePage && element.GetAttributeValue("color", null) is { } color && IsWhite(color);
    }

    private static bool IsWhite(string color) =>
        color.Trim().ToLowerInvariant() is "white" or "#fff" or "#ffffff" or "fff" or "ffffff";

    /// <summary>The http(s) links in text: each "http://", "https://" or "www." up to a space, quote or bracket.</summary>
    private static void Urls(string text, Sink sink)
    {
        var n = 0;
        var span = text.AsSpan();
        var at = 0;
        while (at < span.Length && n < MaxUrls)
        {
            var rest = span[at..];
            var http = rest.IndexOf("http", StringComparison.OrdinalIgnoreCase);
            var www = rest.IndexOf("www.", StringComparison.OrdinalIgnoreCase);
            var start = http < 0 ? www : www < 0 ? http : Math.Min(http, www);
            if (start < 0)
                return;
            var candidate = rest[start..];
            var end = candidate.IndexOfAny(UrlEnd);
            if (end < 0)
                end = candidate.Length;
            var url = candidate[..end];
            at += start + Math.Max(end, 4);
            if (url.StartsWith("www.", StringComparison.OrdinalIgnoreCase))
                Url("http://" + url.ToString(), sink);
            else if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                Url(url.ToString(), sink);
            else
                continue;
            n++;
        }
    }

    private static readonly System.Buffers.SearchValues<char> UrlEnd = System.Buffers.SearchValues.Create(" \t\r\n\"'<>()[]");

    /// <summary>
    /// A link's host (or "url:ip"), a port if any, its path words and whether it has a query. Split by hand rather
    /// than with <see cref="Uri"/>, which costs a few microseconds a link: a newsletter has hundreds.
    /// </summary>
    private static void Url(string value, Sink sink)
    {
        var url = value.AsSpan().Trim();
        if (url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            sink.Add("url:mailto");
            return;
        }
        var scheme = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? 7 : url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? 8 : 0;
        if (scheme == 0 || !sink.NewUrl(value))
            return;
        var rest = url[scheme..];
        var authorityEnd = rest.IndexOfAny('/', '?', '#');
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var at = authority.LastIndexOf('@');
        if (at >= 0)
            authority = authority[(at + 1)..];
        var host = authority;
        if (host.StartsWith("["))
        {
            sink.Add("url:ip");
            var close = host.IndexOf(']');
            host = close < 0 ? [] : host[(close + 1)..];
            if (host.StartsWith(":"))
                sink.Add("url:port");
        }
        else
        {
            var colon = host.IndexOf(':');
            if (colon >= 0)
            {
                sink.Add("url:port");
                host = host[..colon];
            }
            host = host.TrimEnd('.');
            if (host.Length == 0)
                return;
            if (host.IndexOfAnyExcept("0123456789.") < 0)
                sink.Add("url:ip");
            else
                Domain("url:", host.ToString(), sink);
        }
        if (authorityEnd < 0)
            return;
        var tail = rest[authorityEnd..];
        var queryAt = tail.IndexOfAny('?', '#');
        var path = queryAt < 0 ? tail : tail[..queryAt];
        if (path.Length > 1)
            sink.Words("urlp:", path[..Math.Min(path.Length, 200)].ToString(), pairs: false);
        if (queryAt >= 0 && tail[queryAt] == '?' && tail.Length > queryAt + 1)
            sink.Add("url:query");
    }


    internal static ulong Hash(string text) => System.IO.Hashing.XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text.AsSpan()));

    /// <summary>Collects distinct tokens up to the limit; words are lowercased and hashed without allocating.</summary>
    private sealed class Sink(BayesLimits limits)
    {
        private readonly HashSet<ulong> _seen = [];
        private readonly TokenArena _arena = new();

        public List<BayesToken> Tokens { get; } = [];

        public bool Full => Tokens.Count >= limits.MaxTokens;

        private readonly HashSet<string> _urls = new(StringComparer.Ordinal);

        /// <summary>False for a link already tokenized (a newsletter repeats the same ones).</summary>
        public bool NewUrl(string url) => _urls.Count < 4 * MaxUrls && _urls.Add(url);

        public void Add(string token) => Add(token.AsSpan());

        private void Add(ReadOnlySpan<char> token)
        {
            if (Full)
                return;
            var id = System.IO.Hashing.XxHash3.HashToUInt64(MemoryMarshal.AsBytes(token));
            if (_seen.Add(id))
                Tokens.Add(new BayesToken(id, _arena, _arena.Append(token), token.Length));
        }

        /// <summary>prefix + a + b + c (each at most 64 characters), without allocating.</summary>
        public void Add(string prefix, ReadOnlySpan<char> a, ReadOnlySpan<char> b = default, ReadOnlySpan<char> c = default)
        {
            if (Full)
                return;
            a = a[..Math.Min(a.Length, 64)];
            b = b[..Math.Min(b.Length, 64)];
            c = c[..Math.Min(c.Length, 64)];
            Span<char> buffer = stackalloc char[prefix.Length + a.Length + b.Length + c.Length];
            prefix.AsSpan().CopyTo(buffer);
            var at = prefix.Length;
            at += a.ToLowerInvariant(buffer[at..]);
            b.CopyTo(buffer[at..]);
            at += b.Length;
            c.CopyTo(buffer[at..]);
            Add(buffer);
        }

        /// <summary>
        /// Words of 3 to MaxTokenLength letters, digits and $'!- (longer ones as "sk:" + 7 letters + length class),
        /// numbers of more than 4 digits as their length, a word in capitals also as "UC:"; with
        /// <paramref name="pairs"/>, each word with the next as a pair.
        /// </summary>
        public void Words(string prefix, string text, bool pairs)
        {
            var span = text.AsSpan();
            var i = 0;
            Span<char> previous = stackalloc char[limits.MaxTokenLength];
            var previousLength = 0;
            var words = 0;
            Span<char> pair = stackalloc char[prefix.Length + 2 * limits.MaxTokenLength + 3];
            while (i < span.Length && !Full)
            {
                while (i < span.Length && !IsWordChar(span[i]))
                    i++;
                if (i < span.Length && IsIdeograph(span[i]))
                {
                    var run = i;
                    while (i < span.Length && IsIdeograph(span[i]))
                        i++;
                    Ideographs(prefix, span[run..i]);
                    previousLength = 0;
                    continue;
                }
                var start = i;
                while (i < span.Length && IsWordChar(span[i]) && !IsIdeograph(span[i]))
                    i++;
                var word = span[start..i].Trim("-'!");
                if (word.Length < 3 && !(word.Length == 2 && Script(word[0]) == "hangul"))
                    continue;
                if (word[0] >= 0x370)
                    AddScript(word[0]);
                if (word.Length > limits.MaxTokenLength)
                {
                    Add(prefix + "sk:", word[..7], ":", [(char)('0' + Math.Min(word.Length / 10, 9))]);
                    previousLength = 0;
                    continue;
                }
                if (IsNumber(word))
                {
                    if (word.Length > 4)
                    {
                        Add(prefix + "num:", [(char)('0' + Math.Min(word.Length, 9))]);
                        previousLength = 0;
                        continue;
                    }
                }
                else if (word.Length >= 4 && IsUpper(word))
                    Add(prefix + "UC:", word);
                Add(prefix, word);
                // Pairs of the first words only: they add most where the message starts, and cost as much as the words.
                if (pairs && ++words <= MaxPairedWords)
                {
                    if (previousLength > 0)
                    {
                        prefix.AsSpan().CopyTo(pair);
                        var at = prefix.Length;
                        pair[at++] = '2';
                        pair[at++] = ':';
                        previous[..previousLength].CopyTo(pair[at..]);
                        at += previousLength;
                        pair[at++] = ' ';
                        at += word.ToLowerInvariant(pair[at..]);
                        Add(pair[..at]);
                    }
                    previousLength = word.ToLowerInvariant(previous);
                }
            }
        }

        /// <summary>
        /// Chinese and Japanese are written without spaces between words: a run of ideographs or kana becomes the
        /// pairs of adjacent characters in it (as search engines index them), bounded by the token limit.
        /// </summary>
        private void Ideographs(string prefix, ReadOnlySpan<char> run)
        {
            AddScript(run[0]);
            Span<char> pair = stackalloc char[prefix.Length + 2];
            prefix.AsSpan().CopyTo(pair);
            if (run.Length == 1)
            {
                run.CopyTo(pair[prefix.Length..]);
                Add(pair[..^1]);
                return;
            }
            for (var k = 0; k + 1 < run.Length && !Full; k++)
            {
                run.Slice(k, 2).CopyTo(pair[prefix.Length..]);
                Add(pair);
            }
        }

        /// <summary>
        /// "script:han", "script:cyrillic"...: one token per message for each writing system other than Latin that its
        /// words use (the sink keeps each token once), so that mail in a language the site never receives as ham weighs
        /// as such even when its words are all new.
        /// </summary>
        private void AddScript(char c)
        {
            if (Script(c) is { } script)
                Add("script:", script);
        }

        private static string? Script(char c) => c switch
        {
            < '\u0370' => null,
            < '\u0400' => "greek",
            < '\u0530' => "cyrillic",
            >= '\u0590' and < '\u0600' => "hebrew",
            >= '\u0600' and < '\u0780' => "arabic",
            >= '\u0900' and < '\u0E00' => "indic",
            >= '\u0E00' and < '\u0E80' => "thai",
            >= '\u1100' and < '\u1200' or >= '\u3130' and < '\u3190' or >= '\uAC00' and < '\uD7B0' => "hangul",
            >= '\u3040' and < '\u3100' or >= '\uFF66' and < '\uFFA0' => "kana",
            >= '\u3400' and < '\uA000' or >= '\uF900' and < '\uFB00' => "han",
            >= '\u1E00' and < '\u2000' => null, // Latin and Greek extended
            _ => char.IsLetter(c) ? "other" : null,
        };

        private static bool IsIdeograph(char c) => c >= '\u3040' && (c < '\u3100' || c >= '\u3400' && c < '\uA000' || c >= '\uF900' && c < '\uFB00' || c >= '\uFF66' && c < '\uFFA0');

        private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '$' or '\'' or '!' or '-';

        private static bool IsNumber(ReadOnlySpan<char> word)
        {
            foreach (var c in word)
            {
                if (!char.IsAsciiDigit(c))
                    return false;
            }
            return true;
        }

        private static bool IsUpper(ReadOnlySpan<char> word)
        {
            foreach (var c in word)
            {
                if (char.IsLower(c))
                    return false;
            }
            return true;
        }
    }
}
