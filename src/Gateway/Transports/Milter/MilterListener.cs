using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Milter;

/// <summary>
/// Accepts MTA connections on one milter endpoint: a TCP address, or a Unix socket (created mode 0660, so that the
/// MTA's user needs the gateway's group; a stale socket file left by a crash is replaced, a live one is not).
/// </summary>
public sealed class MilterListener : IDisposable
{
    private readonly Socket _socket;
    private readonly MilterServer _server;
    private readonly string? _unixPath;

    public MilterListener(MilterEndpoint endpoint, MilterServer server)
    {
        _server = server;
        if (endpoint.Tcp is { } tcp)
        {
            _socket = new Socket(tcp.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (tcp.AddressFamily == AddressFamily.InterNetworkV6 && tcp.Address.Equals(IPAddress.IPv6Any))
                _socket.DualMode = true;
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(tcp);
            Endpoint = new MilterEndpoint((IPEndPoint)_socket.LocalEndPoint!, null);
        }
        else
        {
            var path = endpoint.UnixPath!;
            RemoveStaleSocket(path);
            _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _socket.Bind(new UnixDomainSocketEndPoint(path));
            _unixPath = path;
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            Endpoint = endpoint;
        }
        _socket.Listen(512);
    }

    /// <summary>Where it listens (port 0 becomes the port the OS chose).</summary>
    public MilterEndpoint Endpoint { get; }

    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path))
            return;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path); // nobody listens: left behind by a gateway that did not stop cleanly
            return;
        }
        throw new IOException($"{path} is in use by another process");
    }

    public Task AcceptLoopAsync() =>
        _server.Lifetime.AcceptUntilDrainingAsync(_socket, _server.Logger, "milter accept", socket => _ = _server.RunSessionAsync(socket, Endpoint));

    public void Dispose()
    {
        _socket.Dispose();
        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
