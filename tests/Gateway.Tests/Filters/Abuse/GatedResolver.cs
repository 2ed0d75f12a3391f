using System.Collections.Concurrent;
using System.Net;
using Gateway.Dns;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>
/// A resolver whose A answers the test releases by hand: it shows which queries were asked before any was answered
/// (lookups side by side), and lets a query hang until its caller gives up.
/// </summary>
public sealed class GatedResolver : IDnsResolver
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DnsAnswer<IPAddress>>> _pending = new(StringComparer.OrdinalIgnoreCase);
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first query arrives.</summary>
    public Task FirstQuery => _first.Task;

    public IReadOnlyCollection<string> Asked => [.. _pending.Keys];

    public void Answer(string name, DnsAnswer<IPAddress> answer) => Gate(name).TrySetResult(answer);

    // Continuations run inline: once Answer returns, the query that waited on it has seen its answer, so a test
    // that then moves the fake clock cannot time out a query that was already answered.
    private TaskCompletionSource<DnsAnswer<IPAddress>> Gate(string name) =>
        _pending.GetOrAdd(name, _ => new TaskCompletionSource<DnsAnswer<IPAddress>>());

    public async ValueTask<DnsAnswer<IPAddress>> AAsync(string name, CancellationToken cancellationToken)
    {
        var gate = Gate(name);
        _first.TrySetResult();
        return await gate.Task.WaitAsync(cancellationToken);
    }

    public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken) => new(DnsAnswer<string>.NxDomain);

    public ValueTask<DnsAnswer<IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) => new(DnsAnswer<IPAddress>.NxDomain);

    public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) => new(DnsAnswer<MxHost>.NxDomain);

    public ValueTask<DnsAnswer<string>> PtrAsync(IPAddress address, CancellationToken cancellationToken) => new(DnsAnswer<string>.NxDomain);
}
