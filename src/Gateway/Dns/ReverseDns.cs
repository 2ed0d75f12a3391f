using System.Net;
using System.Net.Sockets;

namespace Gateway.Dns;

/// <summary>A client's forward-confirmed reverse DNS name (FCrDNS), or why there is none.</summary>
/// <param name="Name">The first PTR name whose A/AAAA records include the address; null when none does.</param>
/// <param name="Failed">A DNS failure kept the answer from being known (a null name then means "unknown", not "none").</param>
public sealed record ReverseDnsResult(string? Name, bool Failed, IReadOnlyList<string> Trace)
{
    /// <summary>The name as rules and logs see it: "unknown" when there is no confirmed name (as Postfix says).</summary>
    public string Display => Name ?? "unknown";

    /// <summary>The PTR names the address has (confirmed or not): none tells "no reverse DNS" from "not confirmed".</summary>
    public IReadOnlyList<string> PtrNames { get; init; } = [];

    /// <summary>PTR names checked at most (as SPF's ptr mechanism, RFC 7208 4.6.4).</summary>
    public const int MaxNames = 10;

    public static async Task<ReverseDnsResult> LookupAsync(IDnsResolver dns, IPAddress address, CancellationToken cancellationToken)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var trace = new List<string>();
        var ptr = await dns.PtrAsync(address, cancellationToken).ConfigureAwait(false);
        trace.Add($"PTR {DnsNames.ReverseName(address)} -> {ptr.Describe()}");
        if (ptr.IsFailure)
            return new(null, true, trace);
        var failed = false;
        foreach (var name in ptr.Records.Take(MaxNames))
        {
            var forward = address.AddressFamily == AddressFamily.InterNetwork
                ? await dns.AAsync(name, cancellationToken).ConfigureAwait(false)
                : await dns.AaaaAsync(name, cancellationToken).ConfigureAwait(false);
            trace.Add($"{(address.AddressFamily == AddressFamily.InterNetwork ? "A" : "AAAA")} {name} -> {forward.Describe()}");
            if (forward.Records.Contains(address))
                return new(name, false, trace) { PtrNames = ptr.Records };
            failed |= forward.IsFailure;
        }
        return new(null, failed, trace) { PtrNames = ptr.Records };
    }
}
