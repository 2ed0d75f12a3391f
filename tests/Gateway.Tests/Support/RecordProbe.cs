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

    public void Record(TransactionRecord record)
    {
        lock (_gate)
        {
            _records.Enqueue(record);
            _waiters.RemoveAll(w => w.Match(record) && w.Done.TrySetResult(record));
        }
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
