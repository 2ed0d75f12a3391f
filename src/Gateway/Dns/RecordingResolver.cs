using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Dns;

/// <summary>
/// Passes queries on and keeps every answer, so that <c>gateway explain --record-dns FILE</c> can write the answers
/// a message needed as a fixture (<see cref="ZoneFile"/>) for rule tests and repeatable explains.
/// </summary>
public sealed class RecordingResolver(IDnsResolver inner) : IDnsResolver
{
    private readonly ConcurrentDictionary<(string Name, RecordType Type), object> _answers = new();

    /// <summary>Every answer seen: name, type and the <see cref="DnsAnswer{T}"/> (boxed).</summary>
    public IReadOnlyDictionary<(string Name, RecordType Type), object> Answers => _answers;

    public async ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) =>
        Keep(name, RecordType.TXT, await inner.TxtAsync(name, cancellationToken).ConfigureAwait(false));

    public async ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken) =>
        Keep(name, RecordType.A, await inner.AAsync(name, cancellationToken).ConfigureAwait(false));

    public async ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) =>
        Keep(name, RecordType.AAAA, await inner.AaaaAsync(name, cancellationToken).ConfigureAwait(false));

    public async ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) =>
        Keep(name, RecordType.MX, await inner.MxAsync(name, cancellationToken).ConfigureAwait(false));

    public async ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) =>
        Keep(DnsNames.ReverseName(address), RecordType.PTR, await inner.PtrAsync(address, cancellationToken).ConfigureAwait(false));

    private DnsAnswer<T> Keep<T>(string name, RecordType type, DnsAnswer<T> answer)
    {
        _answers[(DnsNames.Normalize(name), type)] = answer;
        return answer;
    }
}
