using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Accepts connections on one endpoint (as Kestrel's socket transport does), refuses those over the connection
/// limits with 421 4.7.0, and runs a <see cref="SmtpConnection"/> for each of the others.
/// </summary>
public sealed class SmtpListener : IDisposable
{
    private readonly Socket _socket;
    private readonly SmtpServerContext _context;
    private readonly CancellationTokenRegistration _drain;

    public SmtpListener(IPEndPoint endpoint, SmtpServerContext context)
    {
        _context = context;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any))
            _socket.DualMode = true;
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(endpoint);
        _socket.Listen(1024);
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
        _drain = context.Lifetime.Draining.Register(static s => ((Socket)s!).Dispose(), _socket);
    }

    /// <summary>The address listened on (port 0 becomes the port the OS chose).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Accepts until draining begins.</summary>
    public Task AcceptLoopAsync() =>
        _context.Lifetime.AcceptUntilDrainingAsync(_socket, _context.Logger, "accept", socket => _ = _context.RunConnectionAsync(socket));

    public void Dispose()
    {
        _drain.Dispose();
        _socket.Dispose();
    }
}
