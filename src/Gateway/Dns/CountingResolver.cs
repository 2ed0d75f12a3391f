using System.Net;

namespace Gateway.Dns;

/// <summary>One message's view of DNS: counts the queries its checks make (answered from the cache or not).</summary>
public sealed class CountingResolver(IDnsResolver inner) : IDnsResolver
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return inner.TxtAsync(name, cancellationToken);
    }

    public ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return inner.AAsync(name, cancellationToken);
    }

    public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return inner.AaaaAsync(name, cancellationToken);
    }

    public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return inner.MxAsync(name, cancellationToken);
    }

    public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return inner.PtrAsync(address, cancellationToken);
    }
}
