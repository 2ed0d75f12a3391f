using System.Net;

namespace Gateway.Transports.Smtp;

/// <summary>Counts open connections, in all and per client address, against the configured limits.</summary>
public sealed class ConnectionLimiter
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Lock _lock = new();
    private int _total;
    private TaskCompletionSource? _idle;

    public int Total
    {
        get { lock (_lock) return _total; }
    }

    /// <summary>Takes a slot for <paramref name="address"/>, or says which limit refused it.</summary>
    public Reply? TryAcquire(IPAddress address, int maxTotal, int maxPerAddress)
    {
        lock (_lock)
        {
            if (_total >= maxTotal)
                return Reply.TooManyConnections;
            _perAddress.TryGetValue(address, out var count);
            if (count >= maxPerAddress)
                return Reply.TooManyConnectionsFromIp;
            _perAddress[address] = count + 1;
            _total++;
            return null;
        }
    }

    /// <summary>
    /// Moves a slot from <paramref name="from"/> (a trusted proxy) to <paramref name="to"/> (the client its PROXY header
    /// names), so that the per-address limit counts clients, not the proxy. On refusal the slot stays with
    /// <paramref name="from"/>.
    /// </summary>
    public Reply? TryMove(IPAddress from, IPAddress to, int maxPerAddress)
    {
        lock (_lock)
        {
            if (from.Equals(to))
                return null;
            _perAddress.TryGetValue(to, out var count);
            if (count >= maxPerAddress)
                return Reply.TooManyConnectionsFromIp;
            _perAddress[to] = count + 1;
            if (_perAddress.TryGetValue(from, out var old))
            {
                if (old <= 1)
                    _perAddress.Remove(from);
                else
                    _perAddress[from] = old - 1;
            }
            return null;
        }
    }

    public void Release(IPAddress address)
    {
        lock (_lock)
        {
            if (_perAddress.TryGetValue(address, out var count))
            {
                if (count <= 1)
                    _perAddress.Remove(address);
                else
                    _perAddress[address] = count - 1;
                _total--;
                if (_total == 0)
                {
                    _idle?.TrySetResult();
                    _idle = null;
                }
            }
        }
    }

    /// <summary>Completes when no connection is open.</summary>
    public Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_total == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }
}
