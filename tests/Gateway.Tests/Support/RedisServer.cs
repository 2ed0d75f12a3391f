using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Support;

/// <summary>
/// A real <c>redis-server</c> (the Debian package, which scripts/test installs) on a loopback port chosen by the OS,
/// with nothing saved to disk. <see cref="Stop"/> and <see cref="Start"/> take it away and bring it back on the same
/// port, for tests of an outage. Missing redis-server fails the test: it is never skipped.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static RedisServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new RedisServer(port);
        server.Start(port);
        return server;
    }

    private void Start(int port)
    {
        var info = new ProcessStartInfo("redis-server");
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "notice" })
            info.ArgumentList.Add(argument);
        _process = ServerProcess.Start(info, line => line.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(20),
            "scripts/test installs it (apt-get install redis-server)");
    }

    /// <summary>Brings a stopped server back on the same port (empty: nothing is saved).</summary>
    public void Restart()
    {
        Stop();
        Start(Port);
    }

    /// <summary>Kills the server and waits until it has gone.</summary>
    public void Stop()
    {
        if (_process is not { } process)
            return;
        _process = null;
        ServerProcess.Kill(process);
    }

    public void Dispose() => Stop();
}
