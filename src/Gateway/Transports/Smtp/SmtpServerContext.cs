using System.Net;
using System.Net.Sockets;
using Gateway.Runtime;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Smtp;

/// <summary>What every connection of the SMTP front end shares: the current snapshot, the limits' counters, shutdown, logging.</summary>
public sealed class SmtpServerContext(Func<GatewaySnapshot> snapshot, ConnectionLimiter limiter, ServerLifetime lifetime, CertificateProvider? certificates,
    ILogger logger, Tracking.ITransactionSink transactions, TimeProvider? time = null)
{
    public ServerLifetime Lifetime { get; } = lifetime;

    public ILogger Logger { get; } = logger;

    public ConnectionLimiter Limiter { get; } = limiter;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly MessageDelivery _delivery = new(logger, lifetime.Stopping, time);

    /// <summary>Runs one accepted connection to its end; never throws.</summary>
    public async Task RunConnectionAsync(Socket socket)
    {
        IPAddress address;
        Connection connection;
        SmtpConnection smtp;
        // The session holds the snapshot it starts with (its upstream, state and DNS) until it ends; one released
        // by a reload in between is not taken.
        GatewaySnapshot current;
        while (!(current = snapshot()).TryAcquire())
        {
            if (ReferenceEquals(current, snapshot()))
            {
                socket.Dispose(); // released and still current: the server has stopped
                return;
            }
        }
        try
        {
            socket.NoDelay = true;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            var local = (IPEndPoint)socket.LocalEndPoint!;
            address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            remote = new IPEndPoint(address, remote.Port);
            var config = current.Config;
            var limits = current.Limits;
            var proxyTrusted = config.Server.ProxyTrusted.Any(n => n.Contains(address));
            // A trusted proxy carries many clients: the per-address limit counts the client its PROXY header names.
            var refusal = Limiter.TryAcquire(address, limits.MaxConnections, proxyTrusted ? int.MaxValue : limits.MaxConnectionsPerAddress);
            if (refusal is not null)
            {
                // No session exists: the id the reply names is in this log line only.
                var id = SessionIds.Next();
                Logger.LogWarning("connection {SessionId} from {Client} refused: {Reply}", id, address, refusal);
                Refuse(socket, refusal.WithRef(id));
                await current.EndSessionAsync().ConfigureAwait(false);
                return;
            }
            connection = new Connection(SessionIds.Next(), config, remote, local, current.Pipeline, _time)
            {
                Upstream = current.Upstream,
                Dns = current.Dns,
                State = current.State,
            };
            Admin.GatewayMetrics.SessionStarted();
            // DNS list lookups start while the greeting goes out, unless a PROXY header may still change the client.
            if (!proxyTrusted)
                current.Pipeline.StartAtConnect(connection.View);
            var engine = new SessionEngine(connection, _delivery, Logger, transactions)
            {
                Stopping = Lifetime.Stopping,
                Chunking = SmtpConnection.ChunkingSupported,
                Relay = Forwarding.RealtimeRelay.For(connection),
            };
            smtp = new SmtpConnection(socket, connection, engine, limits, Lifetime, certificates, Logger, proxyTrusted)
            {
                ClientChanged = (from, to) =>
                {
                    var refused = Limiter.TryMove(from, to, limits.MaxConnectionsPerAddress);
                    if (refused is null)
                        address = to;
                    return refused;
                },
            };
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            await current.EndSessionAsync().ConfigureAwait(false);
            return;
        }
        try
        {
            await smtp.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            Limiter.Release(address);
            Admin.GatewayMetrics.SessionEnded();
            Logging.TransactionLog.WriteSessionEnd(Logger, connection.View, smtp.LastReply);
            await current.EndSessionAsync().ConfigureAwait(false);
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
}
