namespace Gateway.Tracking;

/// <summary>
/// Takes every finished transaction (the log line, metrics, the tracking store). Called on the session's path:
/// it must return at once and never throw; slow work belongs on a queue of its own.
/// </summary>
public interface ITransactionSink
{
    void Record(TransactionRecord record);
}

/// <summary>The sinks of one gateway, called in the order they were added; one that throws does not stop the rest.</summary>
public sealed class TransactionSinks : ITransactionSink
{
    private volatile ITransactionSink[] _sinks = [];
    private readonly Lock _gate = new();

    public void Add(ITransactionSink sink)
    {
        lock (_gate)
            _sinks = [.. _sinks, sink];
    }

    public void Record(TransactionRecord record)
    {
        foreach (var sink in _sinks)
        {
            try
            {
                sink.Record(record);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A sink's fault must never become the client's: the reply has been decided already.
                System.Diagnostics.Trace.TraceError($"transaction sink {sink.GetType().Name} failed: {e.Message}");
            }
        }
    }
}
