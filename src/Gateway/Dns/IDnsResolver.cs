using System.Net;

namespace Gateway.Dns;

/// <summary>
/// The DNS the authentication and reputation checks see. Names are given without a trailing dot and compared
/// without regard to case. Implementations never throw for DNS trouble: they answer <see cref="DnsStatus.Failure"/>
/// (cancellation still throws).
/// </summary>
public interface IDnsResolver
{
    /// <summary>TXT records, each with its character-strings concatenated.</summary>
    ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken);

    /// <summary>A records (IPv4).</summary>
    ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken);

    /// <summary>AAAA records (IPv6).</summary>
    ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken);

    ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken);

    /// <summary>PTR records of an address (the in-addr.arpa / ip6.arpa name is built by the resolver).</summary>
    ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken);
}
