using System.Buffers;

namespace Gateway.Detection;

/// <summary>
/// HTML smuggling: an HTML or SVG document whose script builds a file in the browser and hands it to the user, so
/// that the file never crosses the mail gateway as an attachment (MITRE ATT&amp;CK T1027.006). Looks for what the
/// kits need: <c>msSaveOrOpenBlob</c>/<c>msSaveBlob</c>, <c>new Blob</c> with <c>URL.createObjectURL</c>, <c>atob</c>
/// of a long base64 string, a <c>data:</c> link of a file type with a <c>download</c> attribute, a script carrying
/// a large encoded payload, and script in an SVG image. Returns the evidence of the first finding, or null.
/// </summary>
/// <remarks>
/// A streaming scan by hand rather than a DOM (HtmlAgilityPack, AngleSharp): what matters lives inside script text
/// and attribute values, which a DOM does not interpret either, and a DOM of a hostile 20 MB page costs memory in
/// proportion (and deep nesting costs depth). The scan reads the document once in 64 K chunks through a small
/// tokenizer that tells code (script elements, and tags with their attributes, where event handlers and
/// <c>javascript:</c> links live) from text: an API named in a newsletter's prose is not a call. Time is linear in
/// the document's length, memory constant, nothing nests. Images and fonts embedded as <c>data:image/...</c>
/// (newsletters do that) are not payloads. At most <see cref="MaxChars"/> characters of one document are read.
/// </remarks>
public static class HtmlSmugglingScanner
{
    public const long MaxChars = 32L * 1024 * 1024;

    /// <summary>A base64 string at least this long decoded by atob is a payload.</summary>
    public const int AtobPayload = 2048;

    /// <summary>A file-typed data: URI payload at least this long behind a download attribute.</summary>
    public const int DownloadPayload = 512;

    /// <summary>A file-typed data: URI at least this long in a page with script.</summary>
    public const int ScriptDataPayload = 4096;

    /// <summary>A base64 string at least this long in a page with script, whatever decodes it.</summary>
    public const int ScriptBlob = 100_000;

    private const int Chunk = 64 * 1024;
    private const int Carry = 512;
    private const int NeedleLookahead = 256; // a needle and what is read after it (a file name) fit in this
    private const int TokenLookahead = 16;   // "</script" and "<!--" are decided with this

    private enum Mode : byte { Text, Tag, Script, Comment }

    private sealed class State
    {
        public bool MsSave, CreateObjectUrl, NewBlob, Atob, Script, JavascriptUrl, Download;
        public string? DownloadName;
        public int LongestRun;
        public int LongestDataRun;
        public string? LongestDataType;

        // The tokenizer.
        public Mode Mode;
        public char Quote;
        public bool TagIsScript;

        // The run of base64 characters in progress.
        public int Run;
        public string? RunDataType; // the data: URI media type the run is the payload of, if any
        public bool RunIsImage;
    }

    public static string? Scan(string document, bool isSvg) => Scan(new StringReader(document), isSvg);

    public static string? Scan(TextReader reader, bool isSvg)
    {
        // Two windows of Carry + Chunk characters, from the shared pool: a scan allocates almost nothing.
        var raw = ArrayPool<char>.Shared.Rent(Carry + Chunk);
        var code = ArrayPool<char>.Shared.Rent(Carry + Chunk); // raw with text blanked out, position for position
        try
        {
            return Scan(reader, isSvg, raw.AsSpan(0, Carry + Chunk), code.AsSpan(0, Carry + Chunk));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(raw);
            ArrayPool<char>.Shared.Return(code);
        }
    }

    private static string? Scan(TextReader reader, bool isSvg, Span<char> raw, Span<char> code)
    {
        var state = new State();
        var length = 0;
        var tokenFrom = 0;  // first character the tokenizer has not seen
        var needleFrom = 0; // first position where a needle may start that was not searched yet
        long total = 0;
        while (true)
        {
            var n = reader.ReadBlock(raw[length..]);
            total += n;
            var eof = n == 0 || total >= MaxChars || length + n < raw.Length;
            length += n;
            var tokenLimit = eof ? length : Math.Max(tokenFrom, length - TokenLookahead);
            Tokenize(raw[..length], code, tokenFrom, tokenLimit, state);
            MeasureRuns(raw[..length], tokenFrom, tokenLimit, state);
            var needleLimit = eof ? length : Math.Max(needleFrom, length - NeedleLookahead);
            Search(code[..tokenLimit], needleFrom, needleLimit, state);
            if (eof)
                break;
            var keep = Math.Min(Carry, length);
            var shift = length - keep;
            raw[shift..length].CopyTo(raw);
            code[shift..length].CopyTo(code);
            tokenFrom = tokenLimit - shift;
            needleFrom = needleLimit - shift;
            length = keep;
        }
        if (state.Run > 0)
            EndRun(state);
        return Decide(state, isSvg);
    }

    private static string? Decide(State s, bool isSvg)
    {
        var name = s.DownloadName is null ? "" : $" \"{s.DownloadName}\"";
        if (s.MsSave)
            return "script saves a file it built with msSaveOrOpenBlob";
        if (s.CreateObjectUrl && s.NewBlob)
            return "script builds a file with new Blob and URL.createObjectURL" + (s.Download ? $" and offers it for download{name}" : "");
        if (s.Download && s.LongestDataRun >= DownloadPayload)
            return $"a {s.LongestDataRun / 1024.0:0.#} KB data:{s.LongestDataType} link with a download attribute{name}";
        if (s.Atob && s.LongestRun >= AtobPayload)
            return $"script decodes a {s.LongestRun}-character base64 string with atob";
        if (s.Script && s.LongestDataRun >= ScriptDataPayload)
            return $"script with a {s.LongestDataRun / 1024.0:0.#} KB data:{s.LongestDataType} URI";
        if (s.Script && s.LongestRun >= ScriptBlob)
            return $"script with a {s.LongestRun}-character base64 string";
        if (isSvg && (s.Script || s.JavascriptUrl))
            return "script in an SVG image";
        return null;
    }

    /// <summary>
    /// Tells code from text as a browser would, roughly: tags (attributes included, quotes respected), the content of
    /// script elements, and comments; fills <paramref name="code"/> (text blanked out). Jumps from one character that
    /// can change the mode to the next (vectorised searches), so that long text, attribute values and scripts cost
    /// little more than a copy.
    /// </summary>
    private static void Tokenize(ReadOnlySpan<char> raw, Span<char> code, int from, int limit, State s)
    {
        var i = from;
        while (i < limit)
        {
            switch (s.Mode)
            {
                case Mode.Text:
                {
                    var end = Stop(raw, i, limit, raw[i..limit].IndexOf('<'));
                    code[i..end].Fill(' ');
                    if (end == limit)
                        return;
                    code[end] = '<';
                    var after = raw[(end + 1)..];
                    if (after.StartsWith("!--"))
                        s.Mode = Mode.Comment;
                    else if (after.Length > 0 && (char.IsAsciiLetter(after[0]) || after[0] is '/' or '!' or '?'))
                    {
                        s.Mode = Mode.Tag;
                        s.Quote = '\0';
                        s.TagIsScript = IsScriptTag(after);
                        if (s.TagIsScript)
                            s.Script = true;
                    }
                    i = end + 1;
                    break;
                }
                case Mode.Tag:
                {
                    var end = Stop(raw, i, limit, s.Quote != '\0' ? raw[i..limit].IndexOf(s.Quote) : raw[i..limit].IndexOfAny(TagStops));
                    raw[i..end].CopyTo(code[i..]);
                    if (end == limit)
                        return;
                    var c = raw[end];
                    code[end] = c;
                    if (s.Quote != '\0')
                        s.Quote = '\0';
                    else if (c == '>')
                        s.Mode = s.TagIsScript ? Mode.Script : Mode.Text;
                    else
                        s.Quote = c;
                    i = end + 1;
                    break;
                }
                case Mode.Script:
                {
                    var end = Stop(raw, i, limit, raw[i..limit].IndexOf('<'));
                    raw[i..end].CopyTo(code[i..]);
                    if (end == limit)
                        return;
                    code[end] = '<';
                    if (raw[(end + 1)..].StartsWith("/script", StringComparison.OrdinalIgnoreCase))
                    {
                        s.Mode = Mode.Tag;
                        s.Quote = '\0';
                        s.TagIsScript = false;
                    }
                    i = end + 1;
                    break;
                }
                default: // a comment
                {
                    var end = Stop(raw, i, limit, raw[i..limit].IndexOf('>'));
                    code[i..end].Fill(' ');
                    if (end == limit)
                        return;
                    code[end] = ' ';
                    if (end >= 2 && raw[end - 1] == '-' && raw[end - 2] == '-')
                        s.Mode = Mode.Text;
                    i = end + 1;
                    break;
                }
            }
        }
    }

    private static int Stop(ReadOnlySpan<char> raw, int from, int limit, int found) => found < 0 ? limit : from + found;

    private static readonly SearchValues<char> TagStops = SearchValues.Create("\"'>");

    private static readonly SearchValues<char> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_");

    /// <summary>Runs of base64 characters over the raw text, and the data: URI each is the payload of.</summary>
    private static void MeasureRuns(ReadOnlySpan<char> raw, int from, int limit, State s)
    {
        var i = from;
        while (i < limit)
        {
            if (s.Run == 0)
            {
                var next = raw[i..limit].IndexOfAny(Base64Chars);
                if (next < 0)
                    return;
                i += next;
                StartRun(raw, i, s);
            }
            var end = raw[i..limit].IndexOfAnyExcept(Base64Chars);
            if (end < 0)
            {
                s.Run += limit - i;
                return;
            }
            s.Run += end;
            EndRun(s);
            i += end + 1;
        }
    }

    private static bool IsScriptTag(ReadOnlySpan<char> afterLt) =>
        afterLt.StartsWith("script", StringComparison.OrdinalIgnoreCase)
        && (afterLt.Length == 6 || afterLt[6] is '>' or ' ' or '\t' or '\r' or '\n' or '/');

    private static readonly (string Needle, StringComparison Comparison)[] Needles =
    [
        ("msSaveOrOpenBlob", StringComparison.Ordinal), ("msSaveBlob", StringComparison.Ordinal),
        ("createObjectURL", StringComparison.Ordinal), ("new Blob", StringComparison.Ordinal),
        ("atob(", StringComparison.Ordinal), ("javascript:", StringComparison.OrdinalIgnoreCase),
    ];

    /// <summary>The needles, in code only (text was blanked out), starting in [from, limit).</summary>
    private static void Search(ReadOnlySpan<char> code, int from, int limit, State s)
    {
        foreach (var (needle, comparison) in Needles)
        {
            if (Find(code, needle, from, limit, comparison) < 0)
                continue;
            switch (needle)
            {
                case "msSaveOrOpenBlob" or "msSaveBlob": s.MsSave = true; break;
                case "createObjectURL": s.CreateObjectUrl = true; break;
                case "new Blob": s.NewBlob = true; break;
                case "atob(": s.Atob = true; break;
                default: s.JavascriptUrl = true; break;
            }
        }
        for (var at = Find(code, "download", from, limit, StringComparison.OrdinalIgnoreCase); at >= 0;
             at = Find(code, "download", at + 1, limit, StringComparison.OrdinalIgnoreCase))
        {
            if (IsDownloadAttribute(code, at, out var fileName))
            {
                s.Download = true;
                s.DownloadName ??= fileName;
            }
        }
    }

    private static int Find(ReadOnlySpan<char> window, string needle, int from, int limit, StringComparison comparison)
    {
        if (from >= limit)
            return -1;
        // A match must start before the limit; it may end after it (the lookahead is there for that).
        var i = window[from..Math.Min(window.Length, limit + needle.Length - 1)].IndexOf(needle, comparison);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>
    /// "download" as an attribute or property, not part of a word or URL: after white space, '.', or a quote, and
    /// followed by '=', '>', "/>", white space or a quote (<c>setAttribute("download", ...)</c>). Reads the file
    /// name if one follows.
    /// </summary>
    private static bool IsDownloadAttribute(ReadOnlySpan<char> code, int at, out string? fileName)
    {
        fileName = null;
        if (at == 0 || !(char.IsWhiteSpace(code[at - 1]) || code[at - 1] is '.' or '"' or '\'' or '['))
            return false;
        var i = at + "download".Length;
        if (i >= code.Length)
            return false;
        if (code[i] is '"' or '\'')
            return code[at - 1] is '"' or '\'';
        while (i < code.Length && code[i] is ' ' or '\t' or '\r' or '\n')
            i++;
        if (i >= code.Length)
            return false;
        if (code[i] != '=')
            return code[i] == '>' || code[i] == '/' || char.IsAsciiLetter(code[i]) && char.IsWhiteSpace(code[i - 1]);
        i++;
        var quoted = false;
        while (i < code.Length && code[i] is ' ' or '\t' or '"' or '\'')
            quoted |= code[i++] is '"' or '\'';
        // In script (a.download = name) an unquoted value is a variable, not a file name.
        if (!quoted && code[at - 1] == '.')
            return true;
        var start = i;
        while (i < code.Length && i - start < 100 && !(char.IsWhiteSpace(code[i]) || code[i] is '"' or '\'' or '>' or ';' or ')' or ','))
            i++;
        if (i > start)
            fileName = new string(code[start..i]);
        return true;
    }

    private static void StartRun(ReadOnlySpan<char> raw, int i, State s)
    {
        s.RunDataType = null;
        s.RunIsImage = false;
        if (i == 0 || raw[i - 1] != ',')
            return;
        // data:[<media type>][;base64], right before the run: the media type decides what the payload is.
        var back = raw[Math.Max(0, i - 200)..i];
        var data = back.LastIndexOf("data:", StringComparison.OrdinalIgnoreCase);
        if (data < 0)
            return;
        var type = back[(data + 5)..];
        var end = type.IndexOfAny(';', ',');
        var media = (end < 0 ? type : type[..end]).Trim().ToString().ToLowerInvariant();
        s.RunIsImage = media.StartsWith("image/", StringComparison.Ordinal) || media.StartsWith("font/", StringComparison.Ordinal)
            || media is "text/css" or "application/font-woff" or "application/x-font-woff";
        s.RunDataType = media.Length == 0 ? "text/plain" : media;
    }

    private static void EndRun(State s)
    {
        if (!s.RunIsImage)
        {
            s.LongestRun = Math.Max(s.LongestRun, s.Run);
            if (s.RunDataType is not null && s.Run > s.LongestDataRun)
            {
                s.LongestDataRun = s.Run;
                s.LongestDataType = s.RunDataType;
            }
        }
        s.Run = 0;
    }
}
