namespace Gateway.Filters.Abuse;

public enum DnsListType
{
    /// <summary>A block list (DNSBL): a listing counts against the client.</summary>
    Block,

    /// <summary>An allow list (DNSWL): a listing counts for the client (a negative weight, as in postscreen).</summary>
    Allow,
}

/// <summary>
/// One DNS list of the <c>dnsbl</c> filter: the zone queried, its weight towards the threshold (postscreen's
/// <c>postscreen_dnsbl_sites</c> weights), the answers that count, and the symbol a listing adds with its score.
/// </summary>
public sealed record DnsblZone(string Zone, double Weight, DnsblCodes Codes, DnsListType Type, string Symbol, double Score)
{
    /// <summary>DNSBL_ZEN_SPAMHAUS_ORG or DNSWL_LIST_DNSWL_ORG: the greylisting helper skips clients with a DNSWL_ symbol.</summary>
    public static string SymbolFor(string zone, DnsListType type) =>
        (type == DnsListType.Allow ? "DNSWL_" : "DNSBL_") + string.Concat(zone.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
