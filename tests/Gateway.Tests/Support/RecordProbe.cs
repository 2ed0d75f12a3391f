using System.Collections.Concurrent;
using Gateway.Tracking;

namespace Gateway.Tests.Support;

/// <summary>
/// A transaction sink that tells a test when a record went by. Added after the gateway's own sinks (which are
/// called in order), it sees a record only once the tracking writer has queued it.
/// </summary>
public sealed class RecordProbe : ITransactionSink
{
    private readonly ConcurrentQueue<TransactionRecord> _records = new();
    private readonly List<(Func<TransactionRecord, bool> Match, TaskCompletionSource<TransactionRecord> Done)> _waiters = [];
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<TransactionRecord> _unread = new();
    private readonly SemaphoreSlim _added = new(0);

    public void Record(TransactionRecord record)
    {
        lock (_gate)
        {
            _records.Enqueue(record);
            _unread.Enqueue(record);
            _waiters.RemoveAll(w => w.Match(record) && w.Done.TrySetResult(record));
        }
        _added.Release();
    }

    /// <summary>The records one after the other, in the order they went by.</summary>
    public async Task<TransactionRecord> NextAsync()
    {
        Assert.True(await _added.WaitAsync(TimeSpan.FromSeconds(20)), "no transaction recorded");
        Assert.True(_unread.TryDequeue(out var record));
        return record;
    }

    public Task<TransactionRecord> WaitForAsync(Func<TransactionRecord, bool> match)
    {
        lock (_gate)
        {
            if (_records.FirstOrDefault(match) is { } seen)
                return Task.FromResult(seen);
            var done = new TaskCompletionSource<TransactionRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, done));
            return done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }
}
