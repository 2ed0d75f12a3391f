using Gateway.Configuration;
using Gateway.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Tests.State;

/// <summary>The Redis store against a real redis-server: the same answers as the memory store, atomic, keys that expire.</summary>
public sealed class RedisStateStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly FakeTimeProvider _time = new();
    private readonly LogCollector _logs = new();
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";

    private RedisStateStore Store(RedisServer? server = null, TimeSpan? timeout = null) =>
        new(StateConfig.Default with
        {
            Backend = StateBackend.Redis,
            RedisEndpoint = new HostPort("127.0.0.1", (server ?? redis.Server).Port),
            KeyPrefix = _prefix,
            Timeout = timeout ?? TimeSpan.FromSeconds(5), // generous: only a failing test waits for it, and a loaded machine is slow
        }, _logs.Factory.CreateLogger("state"), _time);

    [Fact]
    public async Task Redis_and_memory_give_the_same_answers_for_the_same_events_and_times()
    {
        await using var redisStore = Store();
        var memory = new MemoryStateStore(_time);
        var times = new GreylistTimes(TimeSpan.FromMinutes(5), TimeSpan.FromHours(4), TimeSpan.FromDays(35));
        var steps = new List<(string Operation, TimeSpan Advance)>();
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
            steps.Add((random.Next(4) == 0 ? "greylist" : "hit", TimeSpan.FromSeconds(random.Next(0, 90))));

        foreach (var (operation, advance) in steps)
        {
            _time.Advance(advance);
            if (operation == "hit")
            {
                var key = $"rl:{random.Next(3)}";
                Assert.Equal(await memory.HitAsync(key, 4, TimeSpan.FromMinutes(3), default), await redisStore.HitAsync(key, 4, TimeSpan.FromMinutes(3), default));
            }
            else
            {
                var key = $"gl:{random.Next(3)}";
                Assert.Equal(await memory.GreylistAsync(key, times, default), await redisStore.GreylistAsync(key, times, default));
            }
        }
    }

    [Fact]
    public async Task Concurrent_checks_from_two_stores_never_allow_more_than_the_limit()
    {
        await using var a = Store();
        await using var b = Store();
        var tasks = Enumerable.Range(0, 300).Select(i => (i % 2 == 0 ? a : b).HitAsync("shared", 37, TimeSpan.FromHours(1), default).AsTask()).ToList();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(37, results.Count(r => r.Allowed));
        Assert.All(results.Where(r => !r.Allowed), r => Assert.Equal(37, r.Count));
    }

    [Fact]
    public async Task Every_key_expires()
    {
        await using var store = Store();
        await store.HitAsync("rl:x", 10, TimeSpan.FromMinutes(10), default);
        await store.GreylistAsync("gl:x", GreylistTimes.Default, default);
        await using var client = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint);
        var db = client.GetDatabase();

        var limitTtl = await db.KeyTimeToLiveAsync(_prefix + "rl:x");
        var greylistTtl = await db.KeyTimeToLiveAsync(_prefix + "gl:x");
        Assert.InRange(limitTtl!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.InRange(greylistTtl!.Value, TimeSpan.FromDays(2) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(2)); // the retry window until it passes
    }

    [Fact]
    public async Task Unreachable_redis_fails_fast_logs_once_and_recovers_by_itself()
    {
        using var own = RedisServer.Start();
        await using var store = Store(own, TimeSpan.FromMilliseconds(250));
        Assert.True((await store.HitAsync("k", 5, TimeSpan.FromHours(1), default)).Allowed);

        own.Stop();
        await _logs.WaitForAsync(l => l.Contains("unavailable", StringComparison.Ordinal));
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
            await Assert.ThrowsAsync<StateUnavailableException>(() => store.HitAsync("k", 5, TimeSpan.FromHours(1), default).AsTask());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"three failed checks took {started.Elapsed}");
        Assert.Single(_logs.Lines, l => l.Contains("unavailable", StringComparison.Ordinal));

        own.Restart();
        await _logs.WaitForAsync(l => l.Contains("available again", StringComparison.Ordinal));
        Assert.True((await store.HitAsync("k", 5, TimeSpan.FromHours(1), default)).Allowed);
        Assert.Single(_logs.Lines, l => l.Contains("available again", StringComparison.Ordinal));
    }
}
