using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracking;

/// <summary>
/// The tracking store and quarantine upkeep of a running gateway, following its configuration: a
/// <see cref="TrackingWriter"/> while a <c>tracking</c> section is configured (a reload that changes it starts a
/// new writer and drains the old one; one that removes it stops recording), and a periodic sweep that enforces
/// tracking retention and its size bound and expires held messages. Added once to GatewayServer.Transactions.
/// </summary>
public sealed class TrackingService : ITransactionSink, IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _retiring = [];
    private TrackingWriter? _writer;
    private GatewayConfig? _config;
    private ITimer? _sweep;
    private TimeSpan _sweepInterval;
    private int _sweeping;

    public TrackingService(ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _logger = loggerFactory.CreateLogger("tracking");
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The writer of the current tracking store; null when tracking is off.</summary>
    public TrackingWriter? Writer => Volatile.Read(ref _writer);

    public void Record(TransactionRecord record) => Volatile.Read(ref _writer)?.Record(record);

    /// <summary>Starts, keeps, replaces or stops the writer and the sweep for <paramref name="config"/>.</summary>
    public void Apply(GatewayConfig config)
    {
        lock (_gate)
        {
            var previous = _config;
            _config = config;
            if (previous?.Tracking != config.Tracking || previous?.Server.Hostname != config.Server.Hostname)
            {
                var old = _writer;
                var next = config.Tracking is { } tracking
                    ? new TrackingWriter(new TrackingStore(TrackingDbs.For(tracking)), tracking, config.Server.Hostname, _logger, _time)
                    : null;
                Volatile.Write(ref _writer, next);
                if (old is not null)
                    _retiring.Add(old.DisposeAsync().AsTask());
                if (next is not null)
                    _logger.LogInformation("tracking store {Store}: retention {Retention}, at most {MaxRows} records", config.Tracking!.Describe(),
                        config.Tracking.Retention, config.Tracking.MaxRows);
            }
            var interval = config.Tracking?.SweepInterval ?? TimeSpan.FromMinutes(10);
            var needed = config.Tracking is not null || config.Quarantine.IsConfigured;
            if (!needed)
            {
                _sweep?.Dispose();
                _sweep = null;
            }
            else if (_sweep is null || interval != _sweepInterval)
            {
                _sweep?.Dispose();
                _sweepInterval = interval;
                // The first sweep soon after start, then one per interval.
                _sweep = _time.CreateTimer(_ => _ = SweepAsync(), null, TimeSpan.FromSeconds(Math.Min(30, interval.TotalSeconds)), interval);
            }
        }
    }

    /// <summary>Enforces tracking retention and size, and expires held messages; returns what was deleted.</summary>
    public async Task<(int Expired, int Trimmed, int QuarantineExpired)> SweepAsync()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
            return default;
        var config = Volatile.Read(ref _config);
        var result = (Expired: 0, Trimmed: 0, QuarantineExpired: 0);
        try
        {
            if (config is null)
                return result;
            var now = _time.GetUtcNow();
            if (config.Tracking is { } tracking)
            {
                try
                {
                    (result.Expired, result.Trimmed) = await new TrackingStore(TrackingDbs.For(tracking)).SweepAsync(now, tracking.Retention, tracking.MaxRows, _stop.Token).ConfigureAwait(false);
                    if (result.Expired + result.Trimmed > 0)
                        _logger.LogInformation("tracking store: deleted {Expired} record(s) past retention, {Trimmed} past the size bound", result.Expired, result.Trimmed);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning("tracking store {Store}: sweep failed: {Error}", tracking.Describe(), e.Message);
                }
            }
            if (config.Quarantine.IsConfigured)
            {
                var store = Quarantine.QuarantineStores.For(config);
                try
                {
                    result.QuarantineExpired = await store.ExpireAsync(now, _stop.Token).ConfigureAwait(false);
                    if (result.QuarantineExpired > 0)
                        _logger.LogInformation("quarantine: {Count} message(s) expired (quarantine.retention {Retention})", result.QuarantineExpired, config.Quarantine.Retention);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning("quarantine {Store}: expiry failed: {Error}", store.Describe(), e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
        return result;
    }

    /// <summary>Writes what is queued (waiting up to a few seconds for the store) and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        TrackingWriter? writer;
        Task[] retiring;
        lock (_gate)
        {
            _sweep?.Dispose();
            _sweep = null;
            writer = _writer;
            _writer = null;
            retiring = [.. _retiring];
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (writer is not null)
            await writer.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(retiring).ConfigureAwait(false);
        _stop.Dispose();
    }
}
