using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Net;

namespace Gateway.Smtp;

/// <summary>
/// Creates the gateway's listeners in place of SmtpServer's own, so that every accepted connection goes through
/// the connection limits and gets a <see cref="GuardedPipe"/>.
/// </summary>
public sealed class GatewayListenerFactory(Func<GatewaySnapshot> snapshot, ConnectionLimiter limiter, ServerLifetime lifetime, ILogger logger, Tracking.ITransactionSink transactions) : IEndpointListenerFactory
{
    private readonly List<IPEndPoint> _bound = [];
    private readonly Lock _lock = new();

    /// <summary>The addresses actually listened on (port 0 in the configuration becomes the port the OS chose).</summary>
    public IReadOnlyList<IPEndPoint> Bound
    {
        get { lock (_lock) return [.. _bound]; }
    }

    public event Action<IPEndPoint>? Listening;

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        if (endpointDefinition.Endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpointDefinition.Endpoint.Address.Equals(IPAddress.IPv6Any))
            listener.Server.DualMode = true;
        listener.Start(backlog: 1024);
        var local = (IPEndPoint)listener.LocalEndpoint;
        lock (_lock)
            _bound.Add(local);
        logger.LogInformation("listening on {Endpoint}", local);
        Listening?.Invoke(local);
        return new GatewayListener(listener, snapshot, limiter, lifetime, logger, transactions);
    }
}

/// <summary>Accepts connections for one endpoint; refuses those over the limits with 421 4.7.0.</summary>
public sealed class GatewayListener : IEndpointListener
{
    private readonly TcpListener _listener;
    private readonly Func<GatewaySnapshot> _snapshot;
    private readonly ConnectionLimiter _limiter;
    private readonly ServerLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly Tracking.ITransactionSink _transactions;
    private readonly CancellationTokenRegistration _drainRegistration;

    public GatewayListener(TcpListener listener, Func<GatewaySnapshot> snapshot, ConnectionLimiter limiter, ServerLifetime lifetime, ILogger logger, Tracking.ITransactionSink transactions)
    {
        _listener = listener;
        _snapshot = snapshot;
        _limiter = limiter;
        _lifetime = lifetime;
        _logger = logger;
        _transactions = transactions;
        _drainRegistration = lifetime.Draining.Register(listener.Stop);
    }

    public async Task<SmtpServer.IO.ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException && _lifetime.IsDraining)
            {
                // Draining: no new connections; wait here until SmtpServer itself is shut down.
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                throw new OperationCanceledException(cancellationToken);
            }
            catch (SocketException e)
            {
                _logger.LogWarning("accept failed: {Error}", e.Message);
                continue;
            }

            socket.NoDelay = true;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            var local = (IPEndPoint)socket.LocalEndPoint!;
            var address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            remote = new IPEndPoint(address, remote.Port);
            var snapshot = _snapshot();
            var config = snapshot.Config;
            var refusal = _limiter.TryAcquire(address, config.Limits.MaxConnections, config.Limits.MaxConnectionsPerIp);
            if (refusal is not null)
            {
                _logger.LogWarning("connection from {Client} refused: {Reply}", address, refusal);
                Refuse(socket, refusal);
                continue;
            }

            var session = new SessionState(SessionIds.Next(), config, remote, local, snapshot.Pipeline) { Lifetime = _lifetime, Upstream = snapshot.Upstream, Dns = snapshot.Dns, State = snapshot.State };
            context.Properties[SessionState.PropertyKey] = session;
            Admin.GatewayMetrics.SessionStarted();
            // DNS list lookups start while the greeting goes out, unless a PROXY header may still change the client.
            if (!config.Server.ProxyTrusted.Any(n => n.Contains(address)))
                snapshot.Pipeline.StartAtConnect(session);
            context.Properties[EndpointListener.LocalEndPointKey] = local;
            context.Properties[EndpointListener.RemoteEndPointKey] = remote;
            context.CommandExecuting += (_, e) => SessionEvents.OnCommandExecuting(session, e.Command);
            return new GuardedPipe(socket, session, _lifetime, pipe =>
            {
                _limiter.Release(address);
                Admin.GatewayMetrics.SessionEnded();
                if (pipe.Session.InTransaction || pipe.Session.RefusedRecipients.Count > 0)
                    _transactions.Record(Tracking.TransactionRecords.From(pipe.Session, 0, Reply.Abandoned, "not forwarded", "client"));
                Logging.TransactionLog.WriteSessionEnd(_logger, pipe.Session, pipe.Replies.LastReply);
            });
        }
    }

    private static void Refuse(Socket socket, Reply reply)
    {
        try
        {
            // The kernel's send buffer of a new connection is empty: this does not block.
            socket.Blocking = false;
            socket.Send(System.Text.Encoding.ASCII.GetBytes(reply + "\r\n"), SocketFlags.None, out _);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose()
    {
        _drainRegistration.Dispose();
        _listener.Stop();
    }
}
