using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Forwarding;

/// <summary>Turns an upstream server's reply into one safe line for our client.</summary>
public static partial class UpstreamReply
{
    [GeneratedRegex(@"^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")]
    private static partial Regex EnhancedCode();

    /// <summary>
    /// Keeps the code, the enhanced code and the text, but only printable ASCII on a single line of bounded length:
    /// an upstream's CR/LF can never become a second reply (or a command) on our client's connection.
    /// </summary>
    public static Reply From(int code, string? text)
    {
        var clean = Clean(text ?? "");
        if (code is < 200 or > 599)
            code = 451;
        var classDigit = (char)('0' + code / 100);
        var enhanced = "";
        var m = EnhancedCode().Match(clean);
        if (m.Success)
        {
            if (m.Groups[1].Value[0] == classDigit)
                enhanced = m.Value.Trim();
            clean = clean[m.Length..].TrimStart();
        }
        if (enhanced.Length == 0)
            enhanced = $"{classDigit}.0.0";
        if (clean.Length == 0)
            clean = code < 400 ? "OK" : "Refused by upstream";
        return new Reply(code, enhanced, clean);
    }

    public static string Clean(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, 400));
        var lastSpace = false;
        foreach (var c in text)
        {
            var ch = c is >= ' ' and < (char)127 ? c : ' ';
            if (ch == ' ')
            {
                if (lastSpace || sb.Length == 0)
                    continue;
                lastSpace = true;
            }
            else
                lastSpace = false;
            sb.Append(ch);
            if (sb.Length >= 400)
                break;
        }
        return sb.ToString().TrimEnd();
    }
}
