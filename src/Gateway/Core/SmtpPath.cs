using System.Globalization;
using System.Text;

namespace Gateway.Core;

/// <summary>
/// An envelope address as the client wrote it in MAIL FROM or RCPT TO (RFC 5321 section 4.1.2, with the UTF-8
/// of RFC 6531), and the facts relay control needs about it. Parsed here rather than by SmtpServer because
/// SmtpServer drops quoting and source routes and un-escapes local parts, so its mailbox cannot be trusted
/// for relay decisions or forwarded as is; MimeKit parses RFC 5322 header addresses, a different grammar.
/// </summary>
public sealed record SmtpPath(string LocalPart, string Domain, bool IsQuoted, bool HasSourceRoute, bool IsAddressLiteral, bool HasTrailingDot)
{
    /// <summary>The null reverse-path <c>&lt;&gt;</c>.</summary>
    public static readonly SmtpPath Null = new("", "", false, false, false, false);

    public bool IsNull => LocalPart.Length == 0 && Domain.Length == 0;

    /// <summary><c>&lt;postmaster&gt;</c> without a domain, which RFC 5321 requires a server to accept.</summary>
    public bool IsBarePostmaster => Domain.Length == 0 && LocalPart.Equals("postmaster", StringComparison.OrdinalIgnoreCase);

    /// <summary>The address as it goes on the wire, without angle brackets.</summary>
    public string Address => IsNull ? "" : Domain.Length == 0 ? LocalPart : $"{LocalPart}@{Domain}";

    public override string ToString() => $"<{Address}>";

    /// <summary>The domain in lower-case ASCII (IDNA) form, for comparisons; null if it cannot be converted.</summary>
    public string? AsciiDomain
    {
        get
        {
            var d = Domain.TrimEnd('.').ToLowerInvariant();
            if (d.All(char.IsAscii))
                return d;
            try { return new IdnMapping().GetAscii(d).ToLowerInvariant(); }
            catch (ArgumentException) { return null; }
        }
    }

    /// <summary>
    /// Parses the argument of MAIL or RCPT after the colon: <c>&lt;path&gt; [SP parameters]</c>.
    /// </summary>
    /// <returns>null on success, else a short reason for the 501 reply.</returns>
    public static string? TryParse(string argument, bool allowNull, bool allowBarePostmaster, out SmtpPath path, out IReadOnlyDictionary<string, string?> parameters)
    {
        path = Null;
        parameters = new Dictionary<string, string?>();
        var text = argument.TrimStart(' ');
        if (!text.StartsWith('<'))
            return "address must be enclosed in <>";
        var close = FindClose(text);
        if (close < 0)
            return "missing closing >";
        var inner = text[1..close];
        var rest = text[(close + 1)..];
        if (rest.Length > 0 && rest[0] != ' ')
            return "unexpected text after the address";
        var error = ParseParameters(rest, out parameters);
        if (error is not null)
            return error;

        if (inner.Length == 0)
            return allowNull ? null : "empty address";

        var sourceRoute = false;
        if (inner.StartsWith('@'))
        {
            var colon = inner.IndexOf(':');
            if (colon < 0)
                return "malformed source route";
            sourceRoute = true;
            inner = inner[(colon + 1)..];
        }

        int at;
        bool quoted;
        string local;
        if (inner.StartsWith('"'))
        {
            var end = ScanQuoted(inner);
            if (end < 0)
                return "malformed quoted local part";
            local = inner[..(end + 1)];
            quoted = true;
            at = end + 1;
            if (at < inner.Length && inner[at] != '@')
                return "malformed quoted local part";
        }
        else
        {
            at = inner.LastIndexOf('@');
            local = at < 0 ? inner : inner[..at];
            quoted = false;
            if (!IsDotString(local))
                return "invalid local part";
        }

        if (at >= inner.Length || at < 0)
        {
            if (allowBarePostmaster && !quoted && !sourceRoute && local.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
            {
                path = new SmtpPath(local, "", false, false, false, false);
                return null;
            }
            return "address must have a domain";
        }
        if (local.Length > 64 * 4)
            return "local part too long";

        var domain = inner[(at + 1)..];
        var literal = domain.StartsWith('[');
        var trailingDot = false;
        if (literal)
        {
            if (!IsAddressLiteralText(domain))
                return "invalid address literal";
        }
        else
        {
            if (domain.EndsWith('.') && domain.Length > 1)
            {
                trailingDot = true;
                domain = domain[..^1];
            }
            if (!IsDomain(domain))
                return "invalid domain";
            if (trailingDot)
                domain += ".";
        }
        path = new SmtpPath(local, domain, quoted, sourceRoute, literal, trailingDot);
        return null;
    }

    private static int FindClose(string text)
    {
        var inQuotes = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuotes && c == '\\') { i++; continue; }
            if (c == '"') inQuotes = !inQuotes;
            else if (c == '>' && !inQuotes) return i;
        }
        return -1;
    }

    /// <summary>Index of the closing quote of a quoted-string starting at 0, or -1.</summary>
    private static int ScanQuoted(string s)
    {
        for (var i = 1; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\\')
            {
                if (i + 1 >= s.Length || s[i + 1] < 32 || s[i + 1] == 127)
                    return -1;
                i++;
            }
            else if (c == '"')
                return i;
            else if (c < 32 || c == 127)
                return -1;
        }
        return -1;
    }

    private static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c) || c > 127 && !char.IsControl(c) && !char.IsWhiteSpace(c);

    private static bool IsDotString(string s)
    {
        if (s.Length == 0 || s.StartsWith('.') || s.EndsWith('.') || s.Contains("..", StringComparison.Ordinal))
            return false;
        foreach (var c in s)
        {
            if (c != '.' && !IsAtext(c))
                return false;
        }
        return true;
    }

    /// <summary>
    /// RFC 5321 4.1.3: <c>[IPv4]</c> or <c>[IPv6:address]</c>, the only literals with a registered tag. Anything else
    /// (a tab, a '>', a quote, non-ASCII) would reach the upstream's command line as the client wrote it.
    /// </summary>
    private static bool IsAddressLiteralText(string d)
    {
        if (d.Length < 3 || d[0] != '[' || d[^1] != ']')
            return false;
        var inner = d.AsSpan(1, d.Length - 2);
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            var v6 = inner[5..];
            foreach (var c in v6)
            {
                if (!char.IsAsciiHexDigit(c) && c is not (':' or '.'))
                    return false;
            }
            return System.Net.IPAddress.TryParse(v6, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }
        var parts = 0;
        foreach (var range in inner.Split('.'))
        {
            var part = inner[range];
            if (++parts > 4 || part.Length is 0 or > 3 || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 255)
                return false;
        }
        return parts == 4;
    }

    private static bool IsDomain(string d)
    {
        if (d.Length is 0 or > 255)
            return false;
        foreach (var label in d.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > 127 && char.IsLetterOrDigit(c)))
                    return false;
            }
        }
        return true;
    }

    private static string? ParseParameters(string rest, out IReadOnlyDictionary<string, string?> parameters)
    {
        var dict = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        parameters = dict;
        foreach (var token in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=');
            var key = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? null : token[(eq + 1)..];
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                return $"malformed parameter '{Printable(token)}'";
            if (value is not null && value.Any(c => c < 33 || c == '=' || c == 127))
                return $"malformed parameter '{Printable(token)}'";
            if (!dict.TryAdd(key, value))
                return $"duplicate parameter {key.ToUpperInvariant()}";
        }
        return null;
    }

    internal static string Printable(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, 64));
        foreach (var c in s.Length > 64 ? s[..64] : s)
            sb.Append(c is >= ' ' and < (char)127 ? c : '?');
        return sb.ToString();
    }
}
