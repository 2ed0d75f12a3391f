// Shared-state benchmark (BenchmarkDotNet): one rate-limit check (and one greylist lookup) against the in-memory
// store and against a real redis-server on loopback, which this program starts on a port the OS chose and stops
// afterwards. Each check takes one of 10,000 keys in turn (limit 100 per minute), as client addresses would.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gateway.Configuration;
using Gateway.State;
using Microsoft.Extensions.Logging.Abstractions;

BenchmarkRunner.Run<StateChecks>(args: args);

[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class StateChecks
{
    private const int Keys = 10_000;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly string[] _keys = [.. Enumerable.Range(0, Keys).Select(i => $"rl:bench|198.51.{i / 256}.{i % 256}")];
    private Process? _redis;
    private IStateStore _memory = null!;
    private IStateStore _store = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _redis = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("cannot start redis-server");
        while (_redis.StandardOutput.ReadLine() is { } line && !line.Contains("Ready to accept connections", StringComparison.Ordinal))
        {
        }
        _memory = new MemoryStateStore(TimeProvider.System);
        _store = new RedisStateStore(StateConfig.Default with
        {
            Backend = StateBackend.Redis,
            RedisEndpoint = new HostPort("127.0.0.1", port),
            KeyPrefix = "bench:",
        }, NullLogger.Instance, TimeProvider.System);
        _store.HitAsync("warm-up", 1, Window, CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _redis?.Kill();
        _redis?.WaitForExit();
    }

    private string NextKey() => _keys[_next++ % Keys];

    [Benchmark(Description = "rate limit, memory")]
    public ValueTask<LimitDecision> MemoryHit() => _memory.HitAsync(NextKey(), 100, Window, CancellationToken.None);

    [Benchmark(Description = "rate limit, redis")]
    public ValueTask<LimitDecision> RedisHit() => _store.HitAsync(NextKey(), 100, Window, CancellationToken.None);

    [Benchmark(Description = "greylist, redis")]
    public ValueTask<GreylistDecision> RedisGreylist() => _store.GreylistAsync("gl:" + NextKey(), GreylistTimes.Default, CancellationToken.None);
}
