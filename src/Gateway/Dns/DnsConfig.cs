using System.Net;

namespace Gateway.Dns;

/// <summary>gateway.yaml's <c>dns</c> section: which servers to ask (none = the system's), how long to wait.</summary>
public sealed record DnsConfig(IReadOnlyList<IPEndPoint> Servers, TimeSpan Timeout, int Retries, int CacheEntries)
{
    public static readonly DnsConfig Default = new([], TimeSpan.FromSeconds(3), 1, 100_000);

    public bool Equals(DnsConfig? other) =>
        other is not null && Servers.SequenceEqual(other.Servers) && Timeout == other.Timeout && Retries == other.Retries && CacheEntries == other.CacheEntries;

    public override int GetHashCode() => HashCode.Combine(Servers.Count, Timeout, Retries, CacheEntries);
}
