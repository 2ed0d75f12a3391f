using System.Net;

namespace Gateway.Dns;

/// <summary>A resolver that answers every query with a failure: where no DNS was given, checks say temperror.</summary>
public sealed class NoDns : IDnsResolver
{
    public static readonly NoDns Instance = new();

    private static ValueTask<DnsAnswer<T>> Fail<T>() => ValueTask.FromResult(DnsAnswer<T>.Failed("no DNS resolver configured"));

    public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) => Fail<string>();

    public ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken) => Fail<IPAddress>();

    public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) => Fail<IPAddress>();

    public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) => Fail<MxHost>();

    public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) => Fail<string>();
}
