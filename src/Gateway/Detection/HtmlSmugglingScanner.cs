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
/// proportion (and deep nesting costs stack). The scan reads the document once in 64 K chunks: time linear in its
/// length, memory constant, nothing to nest. Images embedded as <c>data:image/...</c> (newsletters do that) are not
/// payloads. At most <see cref="MaxChars"/> characters of one document are read.
/// </remarks>
public static class HtmlSmugglingScanner
{
    public const long MaxChars = 32L * 1024 * 1024;

    private const int Chunk = 64 * 1024;
    private const int Carry = 512;
    private const int Lookahead = 256;

    /// <summary>A base64 string at least this long decoded by atob is a payload.</summary>
    public const int AtobPayload = 2048;

    /// <summary>A file-typed data: URI payload at least this long behind a download attribute.</summary>
    public const int DownloadPayload = 512;

    /// <summary>A file-typed data: URI at least this long in a page with script.</summary>
    public const int ScriptDataPayload = 4096;

    /// <summary>A base64 string at least this long in a page with script, whatever decodes it.</summary>
    public const int ScriptBlob = 100_000;

    private sealed class State
    {
        public bool MsSave, CreateObjectUrl, NewBlob, Atob, Script, JavascriptUrl, Download;
        public string? DownloadName;
        public int LongestRun;
        public int LongestDataRun;
        public string? LongestDataType;

        // The run of base64 characters in progress.
        public int Run;
        public string? RunDataType; // the data: URI media type the run is the payload of, if any
        public bool RunIsImage;
    }

    private static readonly string[] OrdinalNeedles = ["msSaveOrOpenBlob", "msSaveBlob", "createObjectURL", "new Blob", "atob("];

    public static string? Scan(string document, bool isSvg) => Scan(new StringReader(document), isSvg);

    public static string? Scan(TextReader reader, bool isSvg)
    {
        var state = new State();
        var window = new char[Carry + Chunk];
        var length = 0;
        var from = 0; // where unprocessed characters start in the window
        long total = 0;
        var eof = false;
        while (!eof)
        {
            var n = reader.ReadBlock(window, length, window.Length - length);
            total += n;
            eof = n == 0 || total >= MaxChars || length + n < window.Length;
            length += n;
            var limit = eof ? length : Math.Max(from, length - Lookahead);
            Process(window.AsSpan(0, length), from, limit, state);
            if (eof)
                break;
            var keep = Math.Min(Carry, length);
            Array.Copy(window, length - keep, window, 0, keep);
            from = limit - (length - keep);
            length = keep;
        }
        Finish(state);
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

    private static void Process(ReadOnlySpan<char> window, int from, int limit, State s)
    {
        if (limit <= from)
            return;
        foreach (var needle in OrdinalNeedles)
        {
            if (Find(window, needle, from, limit, StringComparison.Ordinal) >= 0)
            {
                switch (needle)
                {
                    case "msSaveOrOpenBlob" or "msSaveBlob": s.MsSave = true; break;
                    case "createObjectURL": s.CreateObjectUrl = true; break;
                    case "new Blob": s.NewBlob = true; break;
                    default: s.Atob = true; break;
                }
            }
        }
        if (Find(window, "<script", from, limit, StringComparison.OrdinalIgnoreCase) >= 0)
            s.Script = true;
        if (Find(window, "javascript:", from, limit, StringComparison.OrdinalIgnoreCase) >= 0)
            s.JavascriptUrl = true;
        for (var at = Find(window, "download", from, limit, StringComparison.OrdinalIgnoreCase); at >= 0;
             at = Find(window, "download", at + 1, limit, StringComparison.OrdinalIgnoreCase))
        {
            if (IsDownloadAttribute(window, at, out var fileName))
            {
                s.Download = true;
                s.DownloadName ??= fileName;
            }
        }
        ScanRuns(window, from, limit, s);
    }

    private static int Find(ReadOnlySpan<char> window, string needle, int from, int limit, StringComparison comparison)
    {
        if (from >= limit)
            return -1;
        // A match must start before the limit; it may end after it (the lookahead is there for that).
        var span = window[from..Math.Min(window.Length, limit + needle.Length - 1)];
        var i = span.IndexOf(needle, comparison);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>
    /// "download" as an attribute or property, not the word in a sentence: after white space, '.', or a quote, and
    /// followed by '=', '>', "/>" or a quote (<c>setAttribute("download", ...)</c>). Reads the file name if one follows.
    /// </summary>
    private static bool IsDownloadAttribute(ReadOnlySpan<char> window, int at, out string? fileName)
    {
        fileName = null;
        if (at > 0 && !(char.IsWhiteSpace(window[at - 1]) || window[at - 1] is '.' or '"' or '\'' or '['))
            return false;
        var i = at + "download".Length;
        if (i < window.Length && window[i] is '"' or '\'')
            return window[at - 1] is '"' or '\'';
        while (i < window.Length && window[i] is ' ' or '\t')
            i++;
        if (i >= window.Length)
            return false;
        if (window[i] == '>' || (window[i] == '/' && i + 1 < window.Length && window[i + 1] == '>'))
            return true;
        if (window[i] != '=')
            return false;
        i++;
        while (i < window.Length && window[i] is ' ' or '\t' or '"' or '\'')
            i++;
        var start = i;
        while (i < window.Length && i - start < 100 && !(char.IsWhiteSpace(window[i]) || window[i] is '"' or '\'' or '>' or ';' or ')'))
            i++;
        if (i > start)
            fileName = new string(window[start..i]);
        return true;
    }

    private static bool IsBase64(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '-' or '_';

    /// <summary>Runs of base64 characters, and the data: URI each belongs to (images are not payloads).</summary>
    private static void ScanRuns(ReadOnlySpan<char> window, int from, int limit, State s)
    {
        for (var i = from; i < limit; i++)
        {
            if (IsBase64(window[i]))
            {
                if (s.Run == 0)
                    StartRun(window, i, s);
                s.Run++;
                continue;
            }
            if (s.Run > 0)
                EndRun(s);
        }
    }

    private static void StartRun(ReadOnlySpan<char> window, int i, State s)
    {
        s.RunDataType = null;
        s.RunIsImage = false;
        if (i == 0 || window[i - 1] != ',')
            return;
        // data:[<media type>][;base64], right before the run: the media type decides what the payload is.
        var back = window[Math.Max(0, i - 200)..i];
        var data = back.LastIndexOf("data:", StringComparison.OrdinalIgnoreCase);
        if (data < 0)
            return;
        var type = back[(data + 5)..];
        var end = type.IndexOfAny(';', ',');
        type = (end < 0 ? type : type[..end]).Trim();
        var media = type.ToString().ToLowerInvariant();
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

    /// <summary>Called at the end: a run that reaches the end of the document counts too.</summary>
    private static void Finish(State s)
    {
        if (s.Run > 0)
            EndRun(s);
    }
}
