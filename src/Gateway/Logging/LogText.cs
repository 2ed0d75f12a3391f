using System.Globalization;
using System.Text;

namespace Gateway.Logging;

/// <summary>
/// Writes values into the text log so that nothing a sender controls can create, end or duplicate a field: every such
/// value is double-quoted, and inside the quotes backslash, quote, control and invisible characters are escaped,
/// as is '=' (so each key appears once on a line, whatever a Subject or an attachment name says).
/// Written by hand: logfmt libraries for .NET quote but do not escape '=', bidi or line-separator characters.
/// </summary>
public static class LogText
{
    /// <summary>Subject, Message-ID and HELO are cut to this many characters (with "…" added).</summary>
    public const int MaxValue = 200;

    /// <summary>Appends <paramref name="value"/> as a quoted, escaped value; null appends "".</summary>
    /// <param name="ours">A value the gateway wrote (auth results): '=' is left as is.</param>
    public static StringBuilder AppendQuoted(StringBuilder sb, string? value, int max = int.MaxValue, bool ours = false)
    {
        sb.Append('"');
        if (value is not null)
            AppendEscaped(sb, value, max, ours);
        return sb.Append('"');
    }

    public static string Quote(string? value, int max = int.MaxValue) => AppendQuoted(new StringBuilder(), value, max).ToString();

    public static void AppendEscaped(StringBuilder sb, string value, int max = int.MaxValue, bool ours = false)
    {
        var length = Math.Min(value.Length, max);
        for (var i = 0; i < length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\r': sb.Append(@"\r"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case '\0': sb.Append(@"\0"); break;
                case '=' when !ours: sb.Append(@"\x3d"); break;
                default:
                    if (char.IsSurrogatePair(value, i) && i + 1 < length)
                    {
                        sb.Append(c).Append(value[++i]);
                    }
                    else if (NeedsEscape(c))
                    {
                        sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{{{(int)c:x4}}}");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        if (value.Length > max)
            sb.Append('…');
    }

    /// <summary>
    /// Controls (C0, DEL, C1), lone surrogates, and the characters that change how a line looks without being seen:
    /// line and paragraph separators, bidi controls (U+202E turns "exe.pdf" into "fdp.exe"), zero-width marks, the BOM.
    /// </summary>
    public static bool NeedsEscape(char c) =>
        c < ' ' || c is >= '\x7f' and <= '\x9f' || char.IsSurrogate(c)
        || c is '\u2028' or '\u2029' or '\u200b' or '\u200c' or '\u200d' or '\u200e' or '\u200f' or '\ufeff'
        || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    /// <summary>A value of ours that is a single token (an id, a filter name): as is when it is plain, else quoted.</summary>
    public static StringBuilder AppendToken(StringBuilder sb, string value)
    {
        foreach (var c in value)
        {
            if (c is <= ' ' or '"' or '=' or '\\' || NeedsEscape(c))
                return AppendQuoted(sb, value);
        }
        return sb.Append(value);
    }

    /// <summary>Makes any log message one line: CR, LF and other controls escaped (the message may quote an upstream or a sender).</summary>
    public static string OneLine(string message)
    {
        foreach (var c in message)
        {
            if (NeedsEscape(c) && !char.IsSurrogate(c))
                return Escape(message);
        }
        return message;

        static string Escape(string message)
        {
            var sb = new StringBuilder(message.Length + 16);
            foreach (var c in message)
            {
                switch (c)
                {
                    case '\r': sb.Append(@"\r"); break;
                    case '\n': sb.Append(@"\n"); break;
                    case '\t': sb.Append(@"\t"); break;
                    default:
                        if (NeedsEscape(c) && !char.IsSurrogate(c))
                            sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{{{(int)c:x4}}}");
                        else
                            sb.Append(c);
                        break;
                }
            }
            return sb.ToString();
        }
    }

    public static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
