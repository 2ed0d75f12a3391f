using System.Collections.Concurrent;

namespace Gateway.Dns;

/// <summary>
/// Answers kept for their TTL. Written here rather than using DnsClient's own cache because that one caches
/// failures (SERVFAIL, timeouts) together with NXDOMAIN for one fixed time: here a positive answer lives for its
/// smallest record TTL, a negative one (NXDOMAIN, NoData) for the SOA's negative TTL (RFC 2308), and a failure is
/// never cached, so that the next message asks again. Bounded: past <c>capacity</c> entries, expired ones are
/// swept, and if that is not enough the cache starts over.
/// </summary>
public sealed class DnsCache(int capacity, TimeProvider time)
{
    /// <summary>Longest time any answer is kept, whatever its TTL says.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(6);

    /// <summary>Negative answers without an SOA (or with a longer one) are kept at most this long.</summary>
    public static readonly TimeSpan MaxNegativeTtl = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<(string Type, string Name), (object Answer, long Expires)> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet<T>(string type, string name, out DnsAnswer<T> answer)
    {
        if (_entries.TryGetValue((type, name), out var entry) && entry.Expires > time.GetTimestamp())
        {
            answer = (DnsAnswer<T>)entry.Answer;
            return true;
        }
        answer = null!;
        return false;
    }

    public void Set<T>(string type, string name, DnsAnswer<T> answer, TimeSpan ttl)
    {
        if (answer.IsFailure || ttl <= TimeSpan.Zero || capacity <= 0)
            return;
        var max = answer.Status == DnsStatus.Ok ? MaxTtl : MaxNegativeTtl;
        if (ttl > max)
            ttl = max;
        if (_entries.Count >= capacity)
            Sweep();
        _entries[(type, name)] = (answer, time.GetTimestamp() + (long)(ttl.TotalSeconds * time.TimestampFrequency));
    }

    private void Sweep()
    {
        var now = time.GetTimestamp();
        foreach (var entry in _entries)
        {
            if (entry.Value.Expires <= now)
                _entries.TryRemove(entry.Key, out _);
        }
        if (_entries.Count >= capacity)
            _entries.Clear();
    }
}
