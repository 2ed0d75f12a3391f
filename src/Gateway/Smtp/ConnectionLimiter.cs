using System.Net;

namespace Gateway.Smtp;

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
