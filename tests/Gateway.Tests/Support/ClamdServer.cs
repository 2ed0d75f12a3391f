using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// A real, private <c>clamd</c> (Debian's clamav-daemon, which scripts/test installs) in a temp directory: its own
/// clamd.conf, Unix socket, TCP port on loopback chosen at run time, and a signature database the tests write (no
/// downloaded signatures, no network): MD5 signatures (.hdb) of the EICAR test file and of <see cref="OwnSample"/>,
/// and a body signature (.ndb) of EICAR.
/// <see cref="Stop"/> and <see cref="Start"/> take it away and bring it back on the same socket and port, for tests
/// of an outage. Missing clamd fails the test: it is never skipped.
/// </summary>
public sealed class ClamdServer : IDisposable
{
    /// <summary>The standard antivirus test file (68 bytes), which every scanner reports.</summary>
    public static readonly byte[] Eicar = Encoding.ASCII.GetBytes(@"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");

    /// <summary>A file of our own that the private database calls <c>Gateway-Test-Sample</c>.</summary>
    public static readonly byte[] OwnSample = Encoding.ASCII.GetBytes("Gateway test sample: this file is harmless, the private clamd database names it.\n");

    /// <summary>How clamd names them: signatures from a local .hdb file get ".UNOFFICIAL".</summary>
    public const string EicarName = "Eicar-Test-Signature.UNOFFICIAL";

    public const string OwnSampleName = "Gateway-Test-Sample.UNOFFICIAL";

    private readonly TempDirectory _directory = new();
    private Process? _process;

    private ClamdServer(int port)
    {
        Port = port;
        var database = Path.Combine(_directory.Path, "db");
        Directory.CreateDirectory(database);
        File.WriteAllText(Path.Combine(database, "gateway-tests.hdb"),
            $"{Md5(Eicar)}:{Eicar.Length}:Eicar-Test-Signature\n{Md5(OwnSample)}:{OwnSample.Length}:Gateway-Test-Sample\n");
        // EICAR by its bytes too (a body signature, as ClamAV's own databases carry beside the hash): clamd's
        // quoted-printable decoder keeps the line break before the MIME boundary, so a hash alone misses a QP file.
        File.WriteAllText(Path.Combine(database, "gateway-tests.ndb"), $"Eicar-Test-Signature:0:*:{Convert.ToHexStringLower(Eicar)}\n");
        File.WriteAllText(Path.Combine(_directory.Path, "clamd.conf"), $"""
            Foreground yes
            LocalSocket {SocketPath}
            TCPSocket {port.ToString(CultureInfo.InvariantCulture)}
            TCPAddr 127.0.0.1
            DatabaseDirectory {database}
            PidFile {Path.Combine(_directory.Path, "clamd.pid")}
            LogTime no
            StreamMaxLength {StreamMaxLength / 1024}K
            SelfCheck 3600

            """);
    }

    public int Port { get; }

    /// <summary>clamd refuses a stream longer than this (its StreamMaxLength), with an error reply.</summary>
    public const int StreamMaxLength = 2 * 1024 * 1024;

    public string SocketPath => Path.Combine(_directory.Path, "clamd.sock");

    /// <summary>The filter's <c>clamd</c> option for the Unix socket.</summary>
    public string UnixAddress => "unix:" + SocketPath;

    /// <summary>The filter's <c>clamd</c> option for TCP.</summary>
    public string TcpAddress => $"127.0.0.1:{Port}";

    private static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static ClamdServer Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new ClamdServer(port);
        try
        {
            server.Restart();
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    /// <summary>Starts clamd (again) and waits until it has loaded its database and answers.</summary>
    public void Restart()
    {
        Stop();
        File.Delete(SocketPath);
        // Debian installs it in /usr/sbin, which is not on every user's PATH.
        var info = new ProcessStartInfo(File.Exists("/usr/sbin/clamd") ? "/usr/sbin/clamd" : "clamd");
        info.ArgumentList.Add("--config-file=" + Path.Combine(_directory.Path, "clamd.conf"));
        // "Self checking every" is printed after the database is loaded, just before clamd accepts (the sockets already queue).
        _process = ServerProcess.Start(info, line => line.StartsWith("Self checking every", StringComparison.Ordinal), TimeSpan.FromSeconds(60),
            "scripts/test installs it (apt-get install clamav-daemon)");
    }

    /// <summary>Kills clamd and waits until it has gone.</summary>
    public void Stop()
    {
        if (_process is not { } process)
            return;
        _process = null;
        ServerProcess.Kill(process);
    }

    public void Dispose()
    {
        Stop();
        _directory.Dispose();
    }
}

/// <summary>One private clamd for the test classes of the <see cref="ClamdCollection"/>, started once and stopped after.</summary>
public sealed class ClamdFixture : IDisposable
{
    public ClamdServer Server { get; } = ClamdServer.Start();

    public void Dispose() => Server.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ClamdCollection : ICollectionFixture<ClamdFixture>
{
    public const string Name = "clamd";
}
