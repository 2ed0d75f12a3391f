using System.Net;

namespace Gateway.Authentication.Spf;

/// <summary>The mechanisms of RFC 7208 section 5.</summary>
public enum SpfMechanismKind { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists }

/// <summary>
/// One parsed mechanism. <see cref="Text"/> is the term as written; <see cref="Domain"/> the domain-spec (null when
/// the mechanism has none or it was left out); <see cref="Network"/> the address of ip4/ip6; the prefix lengths apply
/// to a, mx, ip4 and ip6 (32 and 128 when not given).
/// </summary>
public sealed record SpfMechanism(
    SpfResult Qualifier,
    SpfMechanismKind Kind,
    string Text,
    SpfMacroString? Domain,
    IPAddress? Network,
    int Prefix4,
    int Prefix6)
{
    /// <summary>True for the mechanisms that count against the DNS lookup limit (4.6.4).</summary>
    public bool QueriesDns => Kind is SpfMechanismKind.Include or SpfMechanismKind.A or SpfMechanismKind.Mx
        or SpfMechanismKind.Ptr or SpfMechanismKind.Exists;
}
