using System.Net;

namespace Gateway.Dns;

/// <summary>The record types an in-memory zone can hold.</summary>
public enum RecordType { A, AAAA, MX, TXT, PTR, CNAME }

/// <summary>
/// DNS answered from memory: the conformance suites' zone data, the fixtures of <c>gateway explain --dns</c>, and unit
/// tests. A name with no records at all is NXDOMAIN; a name with records of other types answers NoData. A CNAME is
/// followed (up to 8 links). Failures can be set per name or per name and type.
/// </summary>
public sealed class ZoneResolver : IDnsResolver
{
    private readonly Dictionary<(string Name, RecordType Type), List<object>> _records = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, RecordType? Type), string> _failures = new();

    public ZoneResolver Add(string name, RecordType type, object record)
    {
        var key = (DnsNames.Normalize(name), type);
        if (!_records.TryGetValue(key, out var list))
            _records[key] = list = [];
        list.Add(type switch
        {
            RecordType.A or RecordType.AAAA => record as IPAddress ?? IPAddress.Parse((string)record),
            RecordType.MX => (MxHost)record,
            RecordType.CNAME or RecordType.PTR => DnsNames.Normalize((string)record),
            _ => (string)record,
        });
        _names.Add(key.Item1);
        return this;
    }

    /// <summary>Marks a name as existing without records (an empty non-terminal, or "TXT: NONE").</summary>
    public ZoneResolver AddName(string name)
    {
        _names.Add(DnsNames.Normalize(name));
        return this;
    }

    /// <summary>Every query for the name (or only for that type) fails with the error text.</summary>
    public ZoneResolver Fail(string name, string error, RecordType? type = null)
    {
        var normalized = DnsNames.Normalize(name);
        _failures[(normalized, type)] = error;
        _names.Add(normalized);
        return this;
    }

    private int _queryCount;

    public int QueryCount => Volatile.Read(ref _queryCount);

    public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) =>
        new(Query<string>(name, RecordType.TXT));

    public ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken) =>
        new(Query<IPAddress>(name, RecordType.A));

    public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) =>
        new(Query<IPAddress>(name, RecordType.AAAA));

    public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) =>
        new(Query<MxHost>(name, RecordType.MX));

    public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) =>
        new(Query<string>(DnsNames.ReverseName(address), RecordType.PTR));

    private DnsAnswer<T> Query<T>(string name, RecordType type)
    {
        Interlocked.Increment(ref _queryCount);
        if (!DnsNames.IsValidQueryName(name))
            return DnsAnswer<T>.Failed("invalid query name");
        var current = DnsNames.Normalize(name);
        for (var hops = 0; hops <= 8; hops++)
        {
            if (_failures.TryGetValue((current, type), out var error) || _failures.TryGetValue((current, null), out error))
                return DnsAnswer<T>.Failed(error);
            if (_records.TryGetValue((current, type), out var records))
                return DnsAnswer<T>.Of(records.Cast<T>().ToArray());
            if (type != RecordType.CNAME && _records.TryGetValue((current, RecordType.CNAME), out var alias))
            {
                current = (string)alias[0];
                continue;
            }
            return _names.Contains(current) ? DnsAnswer<T>.NoData : DnsAnswer<T>.NxDomain;
        }
        return DnsAnswer<T>.Failed("CNAME chain too long");
    }
}
