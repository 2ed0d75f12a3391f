using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Gateway.Authentication.Spf;

/// <summary>
/// Parses a whole SPF record before any of it is evaluated, so that a syntax error anywhere is a permerror (4.6).
/// Written by hand for the reason given in <see cref="SpfMacroString"/>.
/// </summary>
public static partial class SpfRecordParser
{
    /// <summary>Parses a record that <see cref="SpfRecord.IsSpf1"/> accepted. Throws <see cref="SpfSyntaxException"/>.</summary>
    public static SpfRecord Parse(string text)
    {
        if (!SpfRecord.IsSpf1(text))
            throw new SpfSyntaxException("not a v=spf1 record");
        foreach (var c in text)
        {
            // 3.1 and 4.6.1: records are 7-bit ASCII and terms are separated by spaces only.
            if (c < 0x20 || c > 0x7E)
                throw new SpfSyntaxException($"character 0x{(int)c:X2} in the record");
        }
        var mechanisms = new List<SpfMechanism>();
        SpfMacroString? redirect = null, explanation = null;
        foreach (var term in text[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var modifier = ModifierName().Match(term);
            if (!modifier.Success)
            {
                mechanisms.Add(ParseMechanism(term));
                continue;
            }
            var name = modifier.Groups[1].Value;
            var value = term[(name.Length + 1)..];
            if (name.Equals("redirect", StringComparison.OrdinalIgnoreCase))
            {
                if (redirect is not null)
                    throw new SpfSyntaxException("redirect= given twice");
                redirect = ParseDomainSpec(value, term);
            }
            else if (name.Equals("exp", StringComparison.OrdinalIgnoreCase))
            {
                if (explanation is not null)
                    throw new SpfSyntaxException("exp= given twice");
                explanation = ParseDomainSpec(value, term);
            }
            else
            {
                // Unknown modifiers are ignored (6), but their value must still be a valid macro-string (A/3).
                SpfMacroString.Parse(value, explanation: true);
            }
        }
        return new SpfRecord(mechanisms, redirect, explanation);
    }

    private static SpfMechanism ParseMechanism(string term)
    {
        var qualifier = term[0] switch
        {
            '+' => SpfResult.Pass,
            '-' => SpfResult.Fail,
            '~' => SpfResult.SoftFail,
            '?' => SpfResult.Neutral,
            _ => (SpfResult?)null,
        };
        var body = qualifier is null ? term : term[1..];
        var nameEnd = body.IndexOfAny([':', '/']);
        var name = (nameEnd < 0 ? body : body[..nameEnd]).ToLowerInvariant();
        var rest = nameEnd < 0 ? "" : body[nameEnd..];
        var result = qualifier ?? SpfResult.Pass;
        switch (name)
        {
            case "all":
                if (rest.Length > 0)
                    throw new SpfSyntaxException($"'{term}': all takes no argument");
                return new SpfMechanism(result, SpfMechanismKind.All, term, null, null, 32, 128);
            case "include":
            case "exists":
                if (!rest.StartsWith(':'))
                    throw new SpfSyntaxException($"'{term}': {name} needs ':' and a domain");
                return new SpfMechanism(result, name == "include" ? SpfMechanismKind.Include : SpfMechanismKind.Exists,
                    term, ParseDomainSpec(rest[1..], term), null, 32, 128);
            case "ptr":
                if (rest.Length > 0 && !rest.StartsWith(':'))
                    throw new SpfSyntaxException($"'{term}': ptr takes no prefix length");
                return new SpfMechanism(result, SpfMechanismKind.Ptr, term,
                    rest.Length == 0 ? null : ParseDomainSpec(rest[1..], term), null, 32, 128);
            case "a":
            case "mx":
                var dual = DualCidr().Match(rest);
                if (!dual.Success)
                    throw new SpfSyntaxException($"'{term}': bad domain or prefix length");
                var domain = dual.Groups["domain"].Success ? ParseDomainSpec(dual.Groups["domain"].Value, term) : null;
                return new SpfMechanism(result, name == "a" ? SpfMechanismKind.A : SpfMechanismKind.Mx, term, domain,
                    null, Prefix(dual.Groups["v4"], 32, term), Prefix(dual.Groups["v6"], 128, term));
            case "ip4":
                var v4 = Ip4Network().Match(rest);
                if (!v4.Success || !IsStrictDottedQuad(v4.Groups["ip"].Value))
                    throw new SpfSyntaxException($"'{term}': not an IPv4 network");
                return new SpfMechanism(result, SpfMechanismKind.Ip4, term, null, IPAddress.Parse(v4.Groups["ip"].Value),
                    Prefix(v4.Groups["len"], 32, term), 128);
            case "ip6":
                var v6 = Ip6Network().Match(rest);
                if (!v6.Success || !IPAddress.TryParse(v6.Groups["ip"].Value, out var network)
                    || network.AddressFamily != AddressFamily.InterNetworkV6)
                    throw new SpfSyntaxException($"'{term}': not an IPv6 network");
                return new SpfMechanism(result, SpfMechanismKind.Ip6, term, null, network, 32,
                    Prefix(v6.Groups["len"], 128, term));
            default:
                throw new SpfSyntaxException($"'{term}': unknown mechanism");
        }
    }

    /// <summary>
    /// A domain-spec (7.1): a macro-string that ends in a macro-expand or in "." toplabel with an optional trailing
    /// dot. Syntax only; what the expansion gives is checked when it is used.
    /// </summary>
    public static SpfMacroString ParseDomainSpec(string text, string term)
    {
        if (text.Length == 0)
            throw new SpfSyntaxException($"'{term}': empty domain");
        var spec = SpfMacroString.Parse(text, explanation: false);
        if (spec.EndsWithMacro)
            return spec;
        var trimmed = text.EndsWith('.') ? text[..^1] : text;
        var dot = trimmed.LastIndexOf('.');
        if (dot < 0 || !TopLabel().IsMatch(trimmed[(dot + 1)..]))
            throw new SpfSyntaxException($"'{term}': '{text}' does not end in a valid top-level label");
        return spec;
    }

    private static int Prefix(Group group, int max, string term)
    {
        if (!group.Success)
            return max;
        var text = group.Value;
        // Leading zeros are refused like those of ip4-network; the maxima are 32 and 128 (5.6).
        if ((text.Length > 1 && text[0] == '0') || text.Length > 3)
            throw new SpfSyntaxException($"'{term}': bad prefix length /{text}");
        var value = int.Parse(text, CultureInfo.InvariantCulture);
        if (value > max)
            throw new SpfSyntaxException($"'{term}': bad prefix length /{text}");
        return value;
    }

    private static bool IsStrictDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && (p.Length == 1 || p[0] != '0')
            && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9\-_.]*)=")]
    private static partial Regex ModifierName();

    [GeneratedRegex(@"^(?::(?<domain>.*?))?(?:/(?<v4>[0-9]+))?(?://(?<v6>[0-9]+))?$")]
    private static partial Regex DualCidr();

    [GeneratedRegex(@"^:(?<ip>[0-9.]+)(?:/(?<len>[0-9]+))?$")]
    private static partial Regex Ip4Network();

    [GeneratedRegex(@"^:(?<ip>[0-9A-Fa-f:.]+)(?:/(?<len>[0-9]+))?$")]
    private static partial Regex Ip6Network();

    [GeneratedRegex(@"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9])$")]
    private static partial Regex TopLabel();
}
