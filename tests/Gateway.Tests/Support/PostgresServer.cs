using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Gateway.Tests.Support;

/// <summary>
/// A private PostgreSQL (Debian's postgresql package, which scripts/test installs): initdb into a temporary
/// directory, then a server on a loopback port chosen at run time, trusting local connections as user "gateway".
/// Run as root, the cluster belongs to the postgres user (PostgreSQL refuses to run as root). <see cref="Stop"/> and
/// <see cref="Start"/> take it away and bring it back with its data, for tests of an outage. Missing PostgreSQL
/// fails the test: it is never skipped.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly bool _asPostgresUser;
    private int _databases;

    private PostgresServer(string bin, string directory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    private string Data => Path.Combine(_directory, "data");

    public static PostgresServer Create()
    {
        var bin = FindBinaries();
        var directory = Path.Combine(Path.GetTempPath(), "gateway-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
            Run("chown", ["postgres:postgres", directory]);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new PostgresServer(bin, directory, port, asPostgres);
        server.Pg("initdb", ["-D", server.Data, "-U", "gateway", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
        server.Start();
        return server;
    }

    /// <summary>Starts the server (again) and waits until it accepts connections.</summary>
    public void Start() => Pg("pg_ctl", ["start", "-w", "-t", "60", "-D", Data, "-l", Path.Combine(_directory, "server.log"),
        "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"]);

    /// <summary>Stops the server (connections are cut, committed data kept) and waits until it has gone.</summary>
    public void Stop() => Pg("pg_ctl", ["stop", "-w", "-t", "60", "-m", "fast", "-D", Data]);

    /// <summary>A connection string for a new, empty database of its own.</summary>
    public string CreateDatabase()
    {
        var name = $"test{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        using (var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        return ConnectionString(name);
    }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=gateway;Database={database};Timeout=5";

    private void Pg(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_bin, tool);
        if (_asPostgresUser)
            Run("runuser", ["-u", "postgres", "--", path, .. arguments]);
        else
            Run(path, arguments);
    }

    private static void Run(string file, IReadOnlyList<string> arguments) => Programs.Run(file, arguments, TimeSpan.FromSeconds(120));

    /// <summary>Debian keeps the server's programs in /usr/lib/postgresql/VERSION/bin, outside PATH.</summary>
    private static string FindBinaries()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).ToList()
            : [];
        if (candidates.Count > 0)
            return candidates[0];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        return onPath ?? throw new InvalidOperationException("PostgreSQL is not installed: scripts/test installs it (apt-get install postgresql)");
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One PostgreSQL server for the tests of a class; each test makes its own database.</summary>
public sealed class PostgresFixture : IDisposable
{
    public PostgresServer Server { get; } = PostgresServer.Create();

    public void Dispose() => Server.Dispose();
}
