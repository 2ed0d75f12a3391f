using System.Net.Sockets;
using Microsoft.Extensions.Logging;

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

    /// <summary>
    /// Accepts connections on <paramref name="listening"/> and hands each to <paramref name="start"/> until draining
    /// begins (the listening socket is then closed, which ends a pending accept); a failed accept is logged and the
    /// loop goes on. The accept loop of every listener, SMTP and milter.
    /// </summary>
    public async Task AcceptUntilDrainingAsync(Socket listening, ILogger logger, string what, Action<Socket> start)
    {
        while (!IsDraining)
        {
            Socket socket;
            try
            {
                socket = await listening.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException && IsDraining)
            {
                return; // draining: no new connections
            }
            catch (SocketException e)
            {
                logger.LogWarning("{What} failed: {Error}", what, e.Message);
                continue;
            }
            start(socket);
        }
    }

    public void Dispose()
    {
        _drain.Dispose();
        _stop.Dispose();
    }
}
