using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Forwarding;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>A real gateway on a loopback port chosen by the OS, configured from YAML like the shipped file.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly GatewayServer _server;
    private readonly TempDirectory _directory;

    private GatewayHost(GatewayServer server, GatewayConfig config, TempDirectory directory, LogCollector logs)
    {
        _server = server;
        Config = config;
        _directory = directory;
        Logs = logs;
    }

    public GatewayConfig Config { get; }

    public GatewayServer Server => _server;

    public LogCollector Logs { get; }

    public int Port => _server.Endpoints[0].Port;

    public string Directory => _directory.Path;

    /// <summary>The admin listener (metrics, health, web console), started when the YAML has an <c>admin</c> section.</summary>
    public Gateway.Admin.AdminHost? Admin { get; private set; }

    /// <summary>http://127.0.0.1:PORT (https with admin.tls) of <see cref="Admin"/>.</summary>
    public Uri AdminUri => new($"{(Config.Admin?.Tls is null ? "http" : "https")}://{Admin?.Endpoints[0] ?? throw new InvalidOperationException("no admin section")}");

    /// <summary>
    /// Starts a gateway. <paramref name="yaml"/> is appended to a base configuration (listen on port 0, relay for
    /// example.test); <paramref name="upstream"/> is used for `upstream.hosts` unless the YAML has an upstream;
    /// <paramref name="time"/> is the server's clock (a FakeTimeProvider, for time limits without waiting).
    /// </summary>
    public static async Task<GatewayHost> StartAsync(string yaml = "", FakeUpstream? upstream = null, string upstreamYaml = "", Action<string>? prepareDirectory = null, ILoggerFactory? loggerFactory = null,
        TimeProvider? time = null)
    {
        var directory = new TempDirectory();
        prepareDirectory?.Invoke(directory.Path);
        var text = yaml.Contains("server:", StringComparison.Ordinal) ? yaml : $"""
            server:
              listen: ["127.0.0.1:0"]
              hostname: mx.test.example
            {yaml}
            """;
        if (!text.Contains("relay:", StringComparison.Ordinal))
            text += "\nrelay:\n  domains: [example.test]\n";
        if (!text.Contains("upstream:", StringComparison.Ordinal))
        {
            text += upstream is null
                ? "\nupstream:\n  directory: delivered\n"
                : $"\nupstream:\n  hosts: [\"{upstream.HostPort}\"]\n  tls: none\n  timeout: 10s\n{upstreamYaml}";
        }
        var configPath = directory.Write("gateway.yaml", text);
        var result = ConfigLoader.LoadFile(configPath);
        if (!result.IsValid)
            throw new InvalidOperationException("test configuration invalid:\n" + string.Join("\n", result.Errors) + "\n" + text);
        var logs = new LogCollector();
        var server = new GatewayServer(result.Config!, loggerFactory ?? logs.Factory, configPath: configPath, time: time);
        await server.StartAsync();
        var host = new GatewayHost(server, result.Config!, directory, logs);
        if (result.Config!.Admin is { } admin)
            host.Admin = await Gateway.Admin.AdminHost.StartAsync(admin, server, loggerFactory ?? logs.Factory);
        return host;
    }

    /// <summary>Stops the admin listener and starts a new one with the same configuration (as a restart would; new port).</summary>
    public async Task RestartAdminAsync()
    {
        await Admin!.DisposeAsync();
        Admin = await Gateway.Admin.AdminHost.StartAsync(Config.Admin!, _server, Logs.Factory);
    }

    public async ValueTask DisposeAsync()
    {
        if (Admin is not null)
            await Admin.DisposeAsync();
        await _server.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>Collects log lines in memory so that tests can assert what an administrator would read.</summary>
public sealed class LogCollector
{
    private readonly ConcurrentQueue<string> _lines = new();

    public LogCollector()
    {
        Factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new Provider(this)));
    }

    public ILoggerFactory Factory { get; }

    public IReadOnlyList<string> Lines => [.. _lines];

    public event Action<string>? Logged;

    private void Add(string line)
    {
        _lines.Enqueue(line);
        Logged?.Invoke(line);
    }

    /// <summary>Completes with the first line (already logged or to come) that matches.</summary>
    public Task<string> WaitForAsync(Func<string, bool> match)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(string line)
        {
            if (match(line))
                tcs.TrySetResult(line);
        }
        Logged += Handler;
        foreach (var line in _lines)
        {
            if (match(line))
                tcs.TrySetResult(line);
        }
        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private sealed class Provider(LogCollector owner) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(owner);
        public void Dispose() { }
    }

    private sealed class Logger(LogCollector owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add($"{logLevel}: {formatter(state, exception)}");
    }
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gateway-tests-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
