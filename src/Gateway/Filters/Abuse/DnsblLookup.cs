using System.Net;
using Gateway.Dns;

namespace Gateway.Filters.Abuse;

public enum DnsblStatus { Listed, NotListed, Failed }

/// <summary>What one list said about the client: listed (with the answers that counted), not listed, or failed.</summary>
public sealed record DnsblAnswer(DnsblZone Zone, DnsblStatus Status, IReadOnlyList<IPAddress> Codes, string? Error = null);

/// <summary>
/// The queries of a set of DNS lists for one client: all zones at once (IPv4 as reversed octets, IPv6 as reversed
/// nibbles under the zone), each bounded by the resolver's own timeout and, when given, by <c>timeout</c>.
/// A timeout, SERVFAIL or a refusal code (127.255.255.x) is a failure: the list is skipped, never "listed".
/// </summary>
public static class DnsblLookup
{
    /// <summary>2.0.0.127.zen.spamhaus.org, or the 32 nibbles of an IPv6 address under the zone.</summary>
    public static string QueryName(IPAddress client, string zone)
    {
        var reverse = DnsNames.ReverseName(client);
        return reverse[..reverse.LastIndexOf('.', reverse.LastIndexOf('.') - 1)] + "." + zone;
    }

    public static async Task<IReadOnlyList<DnsblAnswer>> LookupAsync(IDnsResolver dns, IPAddress client, IReadOnlyList<DnsblZone> zones,
        TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (client.IsIPv4MappedToIPv6)
            client = client.MapToIPv4();
        var queries = zones.Select(zone => QueryAsync(dns, client, zone, timeout, time, cancellationToken)).ToList();
        return await Task.WhenAll(queries).ConfigureAwait(false);
    }

    private static async Task<DnsblAnswer> QueryAsync(IDnsResolver dns, IPAddress client, DnsblZone zone, TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = timeout is { } t ? new CancellationTokenSource(t, time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
        DnsAnswer<IPAddress> answer;
        try
        {
            answer = await dns.AAsync(QueryName(client, zone.Zone), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new DnsblAnswer(zone, DnsblStatus.Failed, [], $"no answer within {timeout!.Value.TotalMilliseconds:0} ms");
        }
        if (answer.IsFailure)
            return new DnsblAnswer(zone, DnsblStatus.Failed, [], answer.Error ?? "DNS failure");
        var listed = answer.Records.Where(zone.Codes.Contains).ToList();
        if (listed.Count > 0)
            return new DnsblAnswer(zone, DnsblStatus.Listed, listed);
        if (answer.Records.FirstOrDefault(DnsblCodes.IsRefusal) is { } refusal)
            return new DnsblAnswer(zone, DnsblStatus.Failed, [], $"the list refused the query ({refusal})");
        return new DnsblAnswer(zone, DnsblStatus.NotListed, answer.Records);
    }
}
