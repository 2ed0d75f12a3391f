namespace Gateway.Mime;

/// <summary>
/// Finds the candidates for links in a text: what the pattern <c>https?://[^\s"'&lt;&gt;()\[\]]+</c> (ignoring case)
/// matches, left to right, without overlaps. Written by hand because the regex engine looks for its case-insensitive
/// prefix "http" one character at a time (invariant globalization): 10 % of the gateway's CPU on 50 KB messages with
/// the shipped configuration. Here the search is for "://" (a vectorized ordinal search), then back for the scheme.
/// </summary>
public static class UrlScan
{
    private static readonly System.Buffers.SearchValues<char> Stops = System.Buffers.SearchValues.Create("\"'<>()[]");

    public static IEnumerable<string> Candidates(string text)
    {
        var from = 0; // a match never starts inside the previous one
        while (from < text.Length)
        {
            var found = text.AsSpan(from).IndexOf("://", StringComparison.Ordinal);
            if (found < 0)
                yield break;
            var colon = from + found;
            var start = Scheme(text, colon, from);
            var end = colon + 3;
            while (end < text.Length && !IsStop(text[end]))
                end++;
            if (start < 0 || end == colon + 3)
            {
                from = colon + 1;
                continue;
            }
            yield return text[start..end];
            from = end;
        }
    }

    /// <summary>Where "http" or "https" (any case) ends right before <paramref name="colon"/>, not before <paramref name="from"/>; -1 if neither.</summary>
    private static int Scheme(string text, int colon, int from)
    {
        if (colon - 5 >= from && IsS(text[colon - 1]) && IsHttp(text.AsSpan(colon - 5, 4)))
            return colon - 5;
        if (colon - 4 >= from && IsHttp(text.AsSpan(colon - 4, 4)))
            return colon - 4;
        return -1;
    }

    private static bool IsHttp(ReadOnlySpan<char> s) => (s[0] | 0x20) == 'h' && (s[1] | 0x20) == 't' && (s[2] | 0x20) == 't' && (s[3] | 0x20) == 'p';

    private static bool IsS(char c) => (c | 0x20) == 's';

    private static bool IsStop(char c) => char.IsWhiteSpace(c) || Stops.Contains(c);
}
