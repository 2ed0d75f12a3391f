using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracking;

/// <summary>
/// Takes finished transactions on the SMTP path and writes them to the tracking store on a task of its own, in
/// batches. <see cref="Record"/> never waits: the queue is bounded, and a record that does not fit (the store is
/// slow or down) is dropped and counted. A batch the store refuses is retried a few times, then dropped and
/// counted too. An outage is logged twice: once when dropping starts, once when writing works again, with the count.
/// </summary>
public sealed class TrackingWriter : ITransactionSink, IAsyncDisposable
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private readonly TrackingStore _store;
    private readonly string _gateway;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _batchSize;
    private readonly Channel<TransactionRecord> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _gate = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _flushes = [];
    private long _accepted;
    private long _processed;
    private long _dropped;
    private long _written;
    private long _droppedInOutage;
    private int _dropping;
    private string? _lastError;

    public TrackingWriter(TrackingStore store, TrackingConfig config, string gateway, ILogger logger, TimeProvider? time = null)
    {
        _store = store;
        _gateway = gateway;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _batchSize = config.BatchSize;
        _queue = Channel.CreateBounded<TransactionRecord>(new BoundedChannelOptions(config.QueueSize)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then says "full" at once instead of waiting
        });
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Records dropped since start (queue full, or a batch the store would not take).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    public void Record(TransactionRecord record)
    {
        // Turned into stored values on the writer's side: the record is not changed after it is handed to the sinks.
        if (_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _accepted);
            return;
        }
        Drop(1, "the queue is full");
    }

    private void Drop(int count, string why)
    {
        Interlocked.Add(ref _dropped, count);
        Interlocked.Add(ref _droppedInOutage, count);
        if (Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            _logger.LogWarning("tracking store {Store}: dropping records ({Why}{Error}); transactions are still logged",
                _store.Db.Config.Describe(), why, _lastError is null ? "" : $"; last error: {_lastError}");
        }
    }

    /// <summary>Completes when everything recorded before the call has been written or dropped.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = Interlocked.Read(ref _accepted);
        lock (_gate)
        {
            if (Interlocked.Read(ref _processed) >= target)
                return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushes.Add((target, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<TrackedTransaction>(_batchSize);
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < _batchSize && reader.TryRead(out var item))
                    batch.Add(TrackedTransaction.From(item, _gateway));
                await WriteBatchAsync(batch).ConfigureAwait(false);
                lock (_gate)
                {
                    var processed = Interlocked.Add(ref _processed, batch.Count);
                    _flushes.RemoveAll(f =>
                    {
                        if (f.Target > processed)
                            return false;
                        f.Done.TrySetResult();
                        return true;
                    });
                }
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "tracking writer stopped: {Error}", e.Message);
        }
    }

    private async Task WriteBatchAsync(List<TrackedTransaction> batch)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _store.InsertAsync(batch, _stop.Token).ConfigureAwait(false);
                Interlocked.Add(ref _written, batch.Count);
                _lastError = null;
                if (Interlocked.Exchange(ref _dropping, 0) == 1)
                {
                    _logger.LogWarning("tracking store {Store}: writing again; {Count} record(s) were dropped", _store.Db.Config.Describe(),
                        Interlocked.Exchange(ref _droppedInOutage, 0));
                }
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                Drop(batch.Count, "stopping");
                return;
            }
            catch (Exception e)
            {
                _lastError = e.Message;
                if (attempt >= Backoff.Length || _stop.IsCancellationRequested)
                {
                    Drop(batch.Count, "the store failed");
                    return;
                }
                try
                {
                    await Task.Delay(Backoff[attempt], _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Stops taking records and writes those queued, waiting up to <paramref name="timeout"/> for the store.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        if (await Task.WhenAny(_loop, Task.Delay(timeout, _time)).ConfigureAwait(false) != _loop)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
