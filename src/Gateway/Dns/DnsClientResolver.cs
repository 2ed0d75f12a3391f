using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Gateway.Dns;

/// <summary>
/// The real DNS: DnsClient's LookupClient towards the configured servers (or the system's), with a per-query
/// timeout, behind a <see cref="DnsCache"/>. Every way a query can go wrong (timeout, SERVFAIL, REFUSED, a
/// malformed reply, a name that cannot be sent) comes back as <see cref="DnsStatus.Failure"/>, never as "no record".
/// </summary>
public sealed class DnsClientResolver : IDnsResolver
{
    private readonly LookupClient _client;
    private readonly DnsCache _cache;

    public DnsClientResolver(DnsConfig config, TimeProvider? time = null)
    {
        var options = config.Servers.Count > 0
            ? new LookupClientOptions(config.Servers.ToArray())
            : new LookupClientOptions();
        options.Timeout = config.Timeout;
        options.Retries = config.Retries;
        options.UseCache = false;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = true;
        options.ContinueOnEmptyResponse = false;
        options.UseTcpFallback = true;
        options.UseRandomNameServer = false;
        _client = new LookupClient(options);
        _cache = new DnsCache(config.CacheEntries, time ?? TimeProvider.System);
    }

    public DnsCache Cache => _cache;

    public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.TXT, static r => r is TxtRecord txt ? string.Concat(txt.Text) : null, cancellationToken);

    public ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.A, static r => (r as ARecord)?.Address, cancellationToken);

    public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.AAAA, static r => (r as AaaaRecord)?.Address, cancellationToken);

    public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.MX, static r => r is MxRecord mx ? new MxHost(mx.Preference, DnsNames.Normalize(mx.Exchange.Value)) : null, cancellationToken);

    public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) =>
        QueryAsync(DnsNames.ReverseName(address), QueryType.PTR, static r => r is PtrRecord ptr ? DnsNames.Normalize(ptr.PtrDomainName.Value) : null, cancellationToken);

    private ValueTask<DnsAnswer<T>> QueryAsync<T>(string name, QueryType type, Func<DnsResourceRecord, T?> select, CancellationToken cancellationToken)
        where T : class
    {
        var key = DnsNames.Normalize(name);
        if (_cache.TryGet<T>(type.ToString(), key, out var cached))
        {
            Admin.GatewayMetrics.Dns(Admin.DnsResult.Cached);
            return ValueTask.FromResult(cached);
        }
        return new(LookupAsync(key, type, select, cancellationToken));
    }

    private async Task<DnsAnswer<T>> LookupAsync<T>(string name, QueryType type, Func<DnsResourceRecord, T?> select, CancellationToken cancellationToken)
        where T : class
    {
        var answer = await AskAsync(name, type, select, cancellationToken).ConfigureAwait(false);
        Admin.GatewayMetrics.Dns(answer.Status switch
        {
            DnsStatus.Ok => Admin.DnsResult.Ok,
            DnsStatus.NoData => Admin.DnsResult.NoData,
            DnsStatus.NxDomain => Admin.DnsResult.NxDomain,
            _ => Admin.DnsResult.Failure,
        });
        return answer;
    }

    private async Task<DnsAnswer<T>> AskAsync<T>(string name, QueryType type, Func<DnsResourceRecord, T?> select, CancellationToken cancellationToken)
        where T : class
    {
        if (!DnsNames.IsValidQueryName(name))
            return DnsAnswer<T>.Failed($"invalid query name '{name}'");
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            return DnsAnswer<T>.Failed(e.Code == DnsResponseCode.ConnectionTimeout ? "timeout" : e.Message);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ArgumentException or FormatException or InvalidOperationException)
        {
            return DnsAnswer<T>.Failed(e.Message);
        }

        var code = response.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            var nx = DnsAnswer<T>.NxDomain;
            _cache.Set(type.ToString(), name, nx, NegativeTtl(response));
            return nx;
        }
        if (code != DnsHeaderResponseCode.NoError)
            return DnsAnswer<T>.Failed(code.ToString());

        var records = new List<T>();
        var ttl = int.MaxValue;
        foreach (var record in response.Answers)
        {
            if (select(record) is { } value)
            {
                records.Add(value);
                ttl = Math.Min(ttl, record.InitialTimeToLive);
            }
        }
        var answer = DnsAnswer<T>.Of(records);
        _cache.Set(type.ToString(), name, answer, records.Count > 0 ? TimeSpan.FromSeconds(ttl) : NegativeTtl(response));
        return answer;
    }

    /// <summary>RFC 2308: the smaller of the SOA's own TTL and its MINIMUM field.</summary>
    private static TimeSpan NegativeTtl(IDnsQueryResponse response)
    {
        foreach (var record in response.Authorities)
        {
            if (record is SoaRecord soa)
                return TimeSpan.FromSeconds(Math.Min(soa.InitialTimeToLive, (long)soa.Minimum));
        }
        return TimeSpan.FromSeconds(60);
    }
}
