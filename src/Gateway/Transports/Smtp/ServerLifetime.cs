namespace Gateway.Transports.Smtp;

/// <summary>
/// Shutdown signals shared by every session. Draining closes idle sessions and lets transactions in progress
/// finish; stopping closes everything that is left.
/// </summary>
public sealed class ServerLifetime : IDisposable
{
    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _stop = new();

    public CancellationToken Draining => _drain.Token;

    public CancellationToken Stopping => _stop.Token;

    public bool IsDraining => _drain.IsCancellationRequested;

    public bool IsStopping => _stop.IsCancellationRequested;

    public void BeginDrain() => _drain.Cancel();

    public void Stop()
    {
        _drain.Cancel();
        _stop.Cancel();
    }

    public void Dispose()
    {
        _drain.Dispose();
        _stop.Dispose();
    }
}
