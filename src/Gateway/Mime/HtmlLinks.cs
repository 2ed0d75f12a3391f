using System.Net;
using System.Text;

namespace Gateway.Mime;

/// <summary>
/// What a browser makes of a link written in HTML, for the link rules: the attribute's character references
/// decoded (HTML5's named ones for ASCII punctuation too, which .NET's decoder does not know, and numeric ones
/// without their semicolon), then the WHATWG URL parser's leniencies for http(s): tabs and newlines dropped
/// anywhere, leading and trailing spaces and controls trimmed, backslashes taken as slashes, and any number of
/// slashes (none too) after the scheme. Written by hand: no package does this small part of two specifications.
/// </summary>
public static class HtmlLinks
{
    /// <summary>HTML5 named references for the ASCII characters a link is written with (.NET knows only HTML 4's).</summary>
    private static readonly Dictionary<string, char> Ascii = new(StringComparer.Ordinal)
    {
        ["Tab"] = '\t', ["NewLine"] = '\n', ["excl"] = '!', ["num"] = '#', ["dollar"] = '$', ["percnt"] = '%',
        ["lpar"] = '(', ["rpar"] = ')', ["ast"] = '*', ["midast"] = '*', ["plus"] = '+', ["comma"] = ',',
        ["period"] = '.', ["sol"] = '/', ["colon"] = ':', ["semi"] = ';', ["equals"] = '=', ["quest"] = '?',
        ["commat"] = '@', ["lsqb"] = '[', ["lbrack"] = '[', ["bsol"] = '\\', ["rsqb"] = ']', ["rbrack"] = ']',
        ["Hat"] = '^', ["lowbar"] = '_', ["UnderBar"] = '_', ["grave"] = '`', ["DiacriticalGrave"] = '`',
        ["lcub"] = '{', ["lbrace"] = '{', ["verbar"] = '|', ["vert"] = '|', ["VerticalLine"] = '|',
        ["rcub"] = '}', ["rbrace"] = '}', ["apos"] = '\'', ["quot"] = '"', ["QUOT"] = '"', ["amp"] = '&', ["AMP"] = '&',
    };

    /// <summary>The character references of an HTML text or attribute value, decoded as a browser does.</summary>
    public static string Decode(string value)
    {
        if (value.IndexOf('&') < 0)
            return value;
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '&' || i + 1 >= value.Length)
            {
                text.Append(value[i]);
                continue;
            }
            var j = i + 1;
            if (value[j] == '#')
            {
                // Numeric: decimal or hex, the semicolon optional.
                var hex = j + 1 < value.Length && (value[j + 1] | 0x20) == 'x';
                var k = j + (hex ? 2 : 1);
                var start = k;
                while (k < value.Length && k - start < 8 && (hex ? Uri.IsHexDigit(value[k]) : char.IsAsciiDigit(value[k])))
                    k++;
                if (k > start && int.TryParse(value.AsSpan(start, k - start), hex ? System.Globalization.NumberStyles.HexNumber : System.Globalization.NumberStyles.None, null, out var code)
                    && code is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF))
                {
                    text.Append(char.ConvertFromUtf32(code));
                    i = k < value.Length && value[k] == ';' ? k : k - 1;
                    continue;
                }
            }
            else
            {
                var k = j;
                while (k < value.Length && k - j < 32 && char.IsAsciiLetterOrDigit(value[k]))
                    k++;
                if (k < value.Length && value[k] == ';' && k > j)
                {
                    var name = value[j..k];
                    if (Ascii.TryGetValue(name, out var c))
                    {
                        text.Append(c);
                        i = k;
                        continue;
                    }
                    var decoded = WebUtility.HtmlDecode(value[i..(k + 1)]);
                    if (decoded.Length < k + 1 - i)
                    {
                        text.Append(decoded);
                        i = k;
                        continue;
                    }
                }
            }
            text.Append('&');
        }
        return text.ToString();
    }

    /// <summary>The http(s) address a browser would follow for an attribute value already decoded, or null.</summary>
    public static string? Target(string value)
    {
        // Called for every attribute of every element: most have no colon, and most links no tab or newline.
        if (value.IndexOf(':') < 0)
            return null;
        var s = (value.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 ? value : string.Concat(value.Where(c => c is not ('\t' or '\n' or '\r')))).Trim(Controls);
        var colon = s.IndexOf(':');
        if (colon is not (4 or 5))
            return null;
        var scheme = s[..colon].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
            return null;
        var rest = s[(colon + 1)..].Replace('\\', '/').TrimStart('/');
        return rest.Length == 0 ? null : scheme + "://" + rest;
    }

    private static readonly char[] Controls = [.. Enumerable.Range(0, 0x21).Select(c => (char)c)];
}
