using System.Net;
using System.Net.Sockets;
using Gateway.Runtime;
using Gateway.Transports.Smtp;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Milter;

/// <summary>
/// The milter listeners (<c>milter.listen</c>, bound once at start) and their sessions: each MTA connection runs one
/// <see cref="MilterSession"/> with the configuration snapshot current when it came. Stopping drains as the SMTP
/// front end does: no new connections, idle sessions closed, transactions in progress given the drain time.
/// </summary>
public sealed class MilterServer(MilterConfig config, Func<GatewaySnapshot> snapshot, ILogger logger, Tracking.ITransactionSink transactions, TimeProvider? time = null)
    : IAsyncDisposable
{
    private readonly List<MilterListener> _listeners = [];
    private readonly ConnectionLimiter _limiter = new();
    private Task? _running;

    public ServerLifetime Lifetime { get; } = new();

    public ILogger Logger { get; } = logger;

    public Tracking.ITransactionSink Transactions { get; } = transactions;

    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>Where it listens, with the ports the OS chose for port 0.</summary>
    public IReadOnlyList<MilterEndpoint> Endpoints
    {
        get { lock (_listeners) return [.. _listeners.Select(l => l.Endpoint)]; }
    }

    /// <summary>Open MTA connections.</summary>
    public int Connections => _limiter.Total;

    /// <summary>Binds every endpoint (throwing if one cannot be bound) and starts accepting.</summary>
    public void Start()
    {
        lock (_listeners)
        {
            try
            {
                foreach (var endpoint in config.Listen)
                {
                    var listener = new MilterListener(endpoint, this);
                    _listeners.Add(listener);
                    Logger.LogInformation("milter listening on {Endpoint}", listener.Endpoint);
                }
            }
            catch
            {
                foreach (var listener in _listeners)
                    listener.Dispose();
                _listeners.Clear();
                throw;
            }
            _running = Task.WhenAll(_listeners.Select(l => Task.Run(l.AcceptLoopAsync)));
        }
    }

    /// <summary>Runs one MTA connection to its end; never throws.</summary>
    internal async Task RunSessionAsync(Socket socket, MilterEndpoint endpoint)
    {
        var key = IPAddress.None; // every connection comes from the MTA: only the total is limited
        if (_limiter.TryAcquire(key, config.MaxConnections, int.MaxValue) is not null)
        {
            Logger.LogWarning("milter connection on {Endpoint} refused: {Max} milter connections open (milter.max_connections)", endpoint, config.MaxConnections);
            socket.Dispose();
            return;
        }
        try
        {
            if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                socket.NoDelay = true;
            var peer = socket.RemoteEndPoint is IPEndPoint ip ? ip.ToString() : endpoint.ToString();
            var session = new MilterSession(socket, this, snapshot(), config) { Peer = peer };
            await session.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }
        finally
        {
            _limiter.Release(key);
        }
    }

    /// <summary>Stops accepting, closes idle sessions, gives transactions in progress up to <paramref name="drainTimeout"/>, then closes the rest.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        if (Lifetime.IsStopping)
            return;
        Lifetime.BeginDrain();
        lock (_listeners)
        {
            foreach (var listener in _listeners)
                listener.Dispose();
        }
        using (var wait = new CancellationTokenSource(drainTimeout))
        {
            try
            {
                await _limiter.WaitForIdleAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Logger.LogWarning("milter drain timeout: closing {Connections} connection(s)", _limiter.Total);
            }
        }
        Lifetime.Stop();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _limiter.WaitForIdleAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_running is not null)
        {
            try
            {
                await _running.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        Lifetime.Dispose();
    }
}
