using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Filters.Abuse;

/// <summary>A HELO finding: its symbol and what showed it.</summary>
public sealed record HeloFinding(string Symbol, string Detail);

/// <summary>
/// The checks of a HELO/EHLO name that need no DNS, as Postfix's <c>reject_invalid_helo_hostname</c>,
/// <c>reject_non_fqdn_helo_hostname</c> and the usual "it claims to be us" check: RFC 5321 syntax (a domain, or an
/// address literal <c>[192.0.2.1]</c> / <c>[IPv6:2001:db8::1]</c>), an IP address without brackets, a name without a
/// dot, our own host name, domain or address, and an address literal that is not the client's. The syntax check is
/// written here because .NET has no RFC 5321 domain parser (<see cref="Uri.CheckHostName"/> accepts underscores and
/// bare addresses); international names go through <see cref="IdnMapping"/>.
/// </summary>
public static class HeloChecks
{
    public const string Invalid = "HELO_INVALID";
    public const string BareIp = "HELO_BARE_IP";
    public const string NotFqdn = "HELO_NOT_FQDN";
    public const string Ours = "HELO_OURS";
    public const string LiteralMismatch = "HELO_LITERAL_MISMATCH";
    public const string NoResolve = "HELO_NO_RESOLVE";

    /// <param name="ourNames">Our host name and domains (server.hostname, relay.domains).</param>
    /// <param name="trusted">The client is one of ours (relay.networks): it may use our name.</param>
    /// <returns>The findings, and the name to look up in DNS (a syntactically valid domain that is not ours), if any.</returns>
    public static (List<HeloFinding> Findings, string? Resolve) Check(string? helo, IPAddress client, IPAddress local, IEnumerable<string> ourNames, bool trusted)
    {
        var findings = new List<HeloFinding>();
        var shown = Show(helo ?? "");
        client = Plain(client);
        local = Plain(local);
        if (string.IsNullOrEmpty(helo))
        {
            findings.Add(new(Invalid, "empty HELO"));
            return (findings, null);
        }
        if (helo.StartsWith('['))
        {
            if (ParseLiteral(helo) is not { } literal)
            {
                findings.Add(new(Invalid, $"'{shown}' is not an address literal"));
                return (findings, null);
            }
            if (!trusted && literal.Equals(local))
                findings.Add(new(Ours, $"'{shown}' is our address"));
            if (!literal.Equals(client))
                findings.Add(new(LiteralMismatch, $"'{shown}' is not the client's address {client}"));
            return (findings, null);
        }
        if (ParseBare(helo) is { } bare)
        {
            findings.Add(new(BareIp, $"'{shown}' is an IP address without brackets"));
            if (!trusted && bare.Equals(local))
                findings.Add(new(Ours, $"'{shown}' is our address"));
            return (findings, null);
        }
        if (!IsDomain(helo))
        {
            findings.Add(new(Invalid, $"'{shown}' is not a valid host name"));
            return (findings, null);
        }
        var name = helo.TrimEnd('.').ToLowerInvariant();
        if (!name.Contains('.'))
        {
            findings.Add(new(NotFqdn, $"'{shown}' is not a fully qualified host name"));
            return (findings, null);
        }
        if (!trusted && ourNames.Any(n => string.Equals(n.TrimEnd('.'), name, StringComparison.OrdinalIgnoreCase)))
        {
            findings.Add(new(Ours, $"'{shown}' is our own name"));
            return (findings, null);
        }
        return (findings, name.All(char.IsAscii) ? name : new IdnMapping().GetAscii(name));
    }

    /// <summary>RFC 5321 Domain: labels of letters, digits and hyphens (not at either end), 1-63 octets, 255 in all.</summary>
    public static bool IsDomain(string text)
    {
        var name = text.EndsWith('.') ? text[..^1] : text;
        if (name.Length == 0)
            return false;
        if (!name.All(char.IsAscii))
        {
            try
            {
                name = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(name);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
        if (name.Length > 255)
            return false;
        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                return false;
        }
        return true;
    }

    /// <summary>[192.0.2.1] or [IPv6:2001:db8::1]; null otherwise.</summary>
    public static IPAddress? ParseLiteral(string text)
    {
        if (text.Length < 3 || text[0] != '[' || text[^1] != ']')
            return null;
        var inner = text[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            return IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !inner.Contains('%') ? v6 : null;
        return ParseV4(inner);
    }

    /// <summary>An IPv4 dotted quad or an IPv6 address given without brackets (also "IPv6:..." without them).</summary>
    private static IPAddress? ParseBare(string text)
    {
        if (text.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            text = text[5..];
        if (text.Contains(':'))
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
        return ParseV4(text.TrimEnd('.'));
    }

    /// <summary>Four decimal octets only: IPAddress.TryParse also takes "1" and "0x7f.1", which are not addresses here.</summary>
    private static IPAddress? ParseV4(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || int.Parse(p, CultureInfo.InvariantCulture) > 255))
            return null;
        return IPAddress.Parse(text);
    }

    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>The client's HELO as it may appear in a reply or log: one clean line, at most 64 characters.</summary>
    public static string Show(string helo)
    {
        var clean = Forwarding.UpstreamReply.Clean(helo);
        return clean.Length <= 64 ? clean : clean[..61] + "...";
    }
}
