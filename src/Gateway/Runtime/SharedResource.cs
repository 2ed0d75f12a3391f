namespace Gateway.Runtime;

/// <summary>
/// A resource (an upstream pool, a state store) held by one or more configuration snapshots: a reload that leaves
/// its section alone shares it with the next snapshot; it is disposed when the last snapshot holding it is released.
/// </summary>
public sealed class SharedResource(IAsyncDisposable value)
{
    private int _holders = 1;

    public IAsyncDisposable Value { get; } = value;

    /// <summary>Whether the last holder let go, and the resource was disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _holders) == 0;

    /// <summary>One more snapshot holds it.</summary>
    public SharedResource Share()
    {
        if (Interlocked.Increment(ref _holders) <= 1)
            throw new InvalidOperationException("shared after its disposal");
        return this;
    }

    public ValueTask ReleaseAsync() => Interlocked.Decrement(ref _holders) == 0 ? Value.DisposeAsync() : ValueTask.CompletedTask;
}
