using System.Net;
using Gateway.Configuration;

namespace Gateway.Session;

/// <summary>
/// Decides whether a recipient may be accepted: only for the configured domains, unless the client is in a relay
/// network. Addresses that could route mail elsewhere are refused before the domain is even looked at.
/// </summary>
public static class RelayPolicy
{
    /// <returns>null to accept, else the refusal.</returns>
    public static Reply? Check(SmtpPath recipient, IPAddress client, RelayConfig relay)
    {
        if (recipient.IsBarePostmaster)
            return null;
        if (recipient.HasSourceRoute)
            return new Reply(554, "5.7.1", "Source routes are not accepted");
        if (recipient.IsAddressLiteral)
            return new Reply(554, "5.7.1", "Address literals are not accepted");
        if (recipient.HasTrailingDot)
            return new Reply(554, "5.7.1", "Domain with a trailing dot is not accepted");
        var local = recipient.LocalPart;
        if (local.Contains('%') || local.Contains('!') || recipient.IsQuoted && local.Contains('@'))
            return new Reply(554, "5.7.1", "Routing characters in the local part are not accepted");

        var domain = recipient.AsciiDomain;
        if (domain is not null && relay.Domains.Contains(domain, StringComparer.Ordinal))
            return null;
        if (IsRelayClient(client, relay))
            return null;
        return Reply.RelayDenied;
    }

    public static bool IsRelayClient(IPAddress client, RelayConfig relay)
    {
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        foreach (var network in relay.Networks)
        {
            if (network.Contains(address))
                return true;
        }
        return false;
    }
}
