using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Forwarding;

/// <summary>
/// The connections to one upstream configuration. <c>upstream.pool_size</c> bounds the connections open at once,
/// leased or idle: a transaction that finds them all leased waits (up to <c>upstream.timeout</c>) for one to come
/// back, so slow clients holding leases in realtime mode cannot open connections upstream without bound. 0 means
/// no pool: a new connection per transaction, closed after it, and no bound. Idle connections are closed by a
/// timer once <c>upstream.idle_timeout</c> has passed since their last use, so a quiet gateway's file descriptors
/// return to their baseline. Hosts are tried in order until one accepts a connection.
/// </summary>
public sealed class UpstreamPool : IAsyncDisposable
{
    private readonly UpstreamConfig _config;
    private readonly string _localDomain;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim? _slots;
    private readonly List<UpstreamConnection> _idle = []; // oldest first; leases take the newest
    private readonly Lock _gate = new();
    private readonly ITimer _sweeper;
    private bool _sweepArmed;
    private volatile bool _disposed;

    public UpstreamPool(UpstreamConfig config, string localDomain, ILogger logger, TimeProvider? time = null)
    {
        _config = config;
        _localDomain = localDomain;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _slots = config.PoolSize > 0 ? new SemaphoreSlim(config.PoolSize, config.PoolSize) : null;
        _sweeper = _time.CreateTimer(_ => Sweep(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public UpstreamConfig Config => _config;

    /// <summary>Idle connections held now.</summary>
    public int IdleCount
    {
        get
        {
            lock (_gate)
                return _idle.Count;
        }
    }

    /// <summary>
    /// A connection for one transaction: a pooled one when <paramref name="allowPooled"/> and one is fresh enough,
    /// else a new one. Null with the reason when no host could be reached (or no slot came free in time). Every
    /// connection returned must go back through <see cref="Release"/> or <see cref="Discard"/>.
    /// </summary>
    public async Task<(UpstreamConnection? Connection, bool Reused, string? Failure)> LeaseAsync(bool allowPooled, CancellationToken cancellationToken)
    {
        // A retired pool (a reload changed the upstream) still serves the sessions that started with it: with new
        // connections, closed after their transaction.
        if (_slots is not null && !_slots.Wait(0) && !await WaitForSlotAsync(cancellationToken).ConfigureAwait(false))
        {
            _logger.LogWarning("all {PoolSize} upstream connections busy for {Timeout}", _config.PoolSize, _config.Timeout);
            return (null, false, $"all {_config.PoolSize} upstream connections busy (upstream.pool_size)");
        }
        try
        {
            if (allowPooled)
            {
                while (TakeIdle() is { } pooled)
                {
                    if (_time.GetElapsedTime(pooled.LastUsed) < _config.IdleTimeout)
                        return (pooled, true, null);
                    _ = pooled.QuitAsync();
                }
            }
            List<string>? failures = null;
            foreach (var host in _config.Hosts)
            {
                using var timeout = new CancellationTokenSource(_config.Timeout, _time);
                using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
                try
                {
                    var connection = await UpstreamConnection.OpenAsync(host, _config, _localDomain, timeout.Token).ConfigureAwait(false);
                    return (connection, false, null);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var reason = e is OperationCanceledException ? "connect timed out" : UpstreamReply.Clean(e.Message);
                    _logger.LogWarning("upstream {Host} unavailable: {Error}", host, reason);
                    Admin.GatewayMetrics.UpstreamFailed(host.ToString());
                    (failures ??= []).Add($"{host}: {reason}");
                }
            }
            _slots?.Release();
            return (null, false, failures is null ? "no upstream host" : string.Join("; ", failures));
        }
        catch
        {
            _slots?.Release();
            throw;
        }
    }

    /// <summary>A token cancelled after <c>upstream.timeout</c> or with <paramref name="cancellationToken"/>: one per exchange.</summary>
    internal Deadline Deadline(CancellationToken cancellationToken) => new(_config.Timeout, _time, cancellationToken);

    private async Task<bool> WaitForSlotAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_config.Timeout, _time);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        try
        {
            await _slots!.WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private UpstreamConnection? TakeIdle()
    {
        lock (_gate)
        {
            if (_idle.Count == 0)
                return null;
            var last = _idle[^1];
            _idle.RemoveAt(_idle.Count - 1);
            return last;
        }
    }

    /// <summary>Gives back a connection whose conversation is in a clean state (no transaction open).</summary>
    public void Release(UpstreamConnection connection)
    {
        if (connection.Broken || _disposed || _slots is null)
        {
            Discard(connection);
            return;
        }
        connection.LastUsed = _time.GetTimestamp();
        lock (_gate)
        {
            _idle.Add(connection);
            if (!_sweepArmed)
            {
                _sweepArmed = true;
                _sweeper.Change(_config.IdleTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        _slots.Release();
        if (_disposed)
            CloseIdle(); // retired while this was being added
    }

    /// <summary>Closes a connection (QUIT unless it is broken) and frees its slot.</summary>
    public void Discard(UpstreamConnection connection)
    {
        _ = connection.QuitAsync();
        _slots?.Release();
    }

    /// <summary>Closes the idle connections unused for <c>idle_timeout</c>, and waits for the next to age.</summary>
    private void Sweep()
    {
        List<UpstreamConnection>? expired = null;
        lock (_gate)
        {
            _sweepArmed = false;
            while (_idle.Count > 0 && _time.GetElapsedTime(_idle[0].LastUsed) >= _config.IdleTimeout)
            {
                (expired ??= []).Add(_idle[0]);
                _idle.RemoveAt(0);
            }
            if (_idle.Count > 0 && !_disposed)
            {
                _sweepArmed = true;
                var due = _config.IdleTimeout - _time.GetElapsedTime(_idle[0].LastUsed);
                _sweeper.Change(due > TimeSpan.Zero ? due : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            }
        }
        if (expired is null)
            return;
        _logger.LogDebug("closing {Count} idle upstream connection(s)", expired.Count);
        foreach (var connection in expired)
            _ = connection.QuitAsync();
    }

    private void CloseIdle()
    {
        List<UpstreamConnection> idle;
        lock (_gate)
        {
            idle = [.. _idle];
            _idle.Clear();
        }
        foreach (var connection in idle)
            _ = connection.QuitAsync();
    }

    /// <summary>Retires the pool (a reload changed the upstream): idle connections close now, leased ones as they come back.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        List<UpstreamConnection> idle;
        lock (_gate)
        {
            idle = [.. _idle];
            _idle.Clear();
        }
        await Task.WhenAll(idle.Select(c => c.QuitAsync())).ConfigureAwait(false);
    }
}

/// <summary>A timeout on the pool's clock joined with the caller's cancellation.</summary>
internal readonly struct Deadline : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenRegistration _link;

    public Deadline(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _timeout = new CancellationTokenSource(timeout, time);
        _link = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _timeout)
            : default;
    }

    public CancellationToken Token => _timeout.Token;

    public void Dispose()
    {
        _link.Dispose();
        _timeout.Dispose();
    }
}
