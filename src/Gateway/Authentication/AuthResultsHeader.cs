using System.Text;

namespace Gateway.Authentication;

/// <summary>One "method=result" of an Authentication-Results header, with its reason and properties.</summary>
/// <param name="Properties">"ptype.property" and value pairs, such as ("smtp.mailfrom", "example.com").</param>
public sealed record MethodResult(string Method, string Result, string? Reason, IReadOnlyList<(string Property, string Value)> Properties);

/// <summary>
/// Writes the Authentication-Results header (RFC 8601) the gateway prepends: its authserv-id, then one method result
/// a line. Every value that is not a plain token, domain or local@domain is written as a quoted-string, with
/// control characters dropped, so that nothing a sender controls can break out of its place.
/// </summary>
public static class AuthResultsHeader
{
    public const string Name = "Authentication-Results";

    private const int MaxValueLength = 200;

    /// <summary>The header field, "Authentication-Results: ...\r\n", folded after each ";".</summary>
    public static string Build(string authservId, IReadOnlyList<MethodResult> results)
    {
        var text = new StringBuilder(Name).Append(": ").Append(authservId);
        if (results.Count == 0)
            return text.Append("; none\r\n").ToString();
        foreach (var result in results)
        {
            text.Append(";\r\n\t").Append(result.Method).Append('=').Append(result.Result);
            if (result.Reason is { Length: > 0 } reason)
                text.Append(" reason=").Append(Quote(reason, forceQuotes: true));
            foreach (var (property, value) in result.Properties)
                text.Append(' ').Append(property).Append('=').Append(Quote(value));
        }
        return text.Append("\r\n").ToString();
    }

    /// <summary>A pvalue as it may stand (token, domain, local@domain), else a quoted-string.</summary>
    public static string Quote(string value, bool forceQuotes = false)
    {
        var clean = new StringBuilder(Math.Min(value.Length, MaxValueLength));
        foreach (var c in value)
        {
            if (clean.Length >= MaxValueLength)
                break;
            if (!char.IsControl(c))
                clean.Append(c);
        }
        var text = clean.ToString();
        if (!forceQuotes && text.Length > 0 && IsPlain(text))
            return text;
        return "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    /// <summary>Token characters (RFC 2045), with "@" allowed once as in local@domain.</summary>
    private static bool IsPlain(string value)
    {
        var ats = 0;
        foreach (var c in value)
        {
            if (c == '@' && ++ats == 1)
                continue;
            if (c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?=".Contains(c))
                return false;
        }
        return value[0] != '@' && value[^1] != '@';
    }
}
