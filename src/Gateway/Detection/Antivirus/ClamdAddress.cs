using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;

namespace Gateway.Detection.Antivirus;

/// <summary>Where clamd listens: <c>unix:/run/clamav/clamd.ctl</c> (its LocalSocket) or <c>127.0.0.1:3310</c> (its TCPSocket).</summary>
public sealed class ClamdAddress
{
    private ClamdAddress(string? socketPath, HostPort? hostPort)
    {
        SocketPath = socketPath;
        HostPort = hostPort;
    }

    /// <summary>The Unix socket's path, or null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary>The TCP host and port, or null for a Unix socket.</summary>
    public HostPort? HostPort { get; }

    public static ClamdAddress Unix(string path) => new(path, null);

    public static ClamdAddress Tcp(string host, int port) => new(null, new HostPort(host, port));

    /// <summary>Parses the <c>clamd</c> option; a relative socket path is taken from <paramref name="baseDirectory"/>.</summary>
    public static bool TryParse(string text, string baseDirectory, out ClamdAddress address)
    {
        address = null!;
        text = text.Trim();
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0 || path.Contains('\0'))
                return false;
            address = Unix(Path.GetFullPath(path, baseDirectory));
            return true;
        }
        if (!ConfigLoader.TryParseHostPort(text, out var hostPort))
            return false;
        address = new ClamdAddress(null, hostPort);
        return true;
    }

    /// <summary>A connected socket (TCP without Nagle's delay: clamd's replies are small and awaited).</summary>
    public async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket socket;
        if (SocketPath is { } path)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            return socket;
        }
        var target = HostPort!;
        EndPoint endPoint = IPAddress.TryParse(target.Host, out var ip) ? new IPEndPoint(ip, target.Port) : new DnsEndPoint(target.Host, target.Port);
        socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    public override string ToString() => SocketPath is { } path ? "unix:" + path : HostPort!.ToString();
}
