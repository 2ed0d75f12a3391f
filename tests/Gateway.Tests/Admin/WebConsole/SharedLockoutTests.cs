using System.Net;
using System.Net.Sockets;
using Gateway.Admin.WebConsole;
using Gateway.Configuration;
using Gateway.State;
using Gateway.Tests.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin.WebConsole;

/// <summary>
/// The console's lockout with <c>state.backend: redis</c>, against a real redis-server: the counts in Redis answer as
/// the memory ones, gateways sharing the Redis share the locks, and an outage falls back to each gateway's memory.
/// </summary>
public sealed class SharedLockoutTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Lockout = "  lockout: { failures: 3, duration: 15m, delay: 1ms }\n";

    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";

    /// <summary>The state section of gateways sharing <paramref name="server"/> (a generous timeout: only a failing test waits for it).</summary>
    private string State(RedisServer server, string timeout = "5s") =>
        $"state:\n  backend: redis\n  redis: {{ endpoint: \"{server.Endpoint}\", key_prefix: \"{_prefix}\", timeout: {timeout} }}\n";

    [Fact]
    public async Task Redis_and_memory_give_the_same_answers_for_the_same_attempts_and_times()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var logs = new LogCollector();
        await using var store = new RedisStateStore(StateConfig.Default with
        {
            Backend = StateBackend.Redis,
            RedisEndpoint = new HostPort("127.0.0.1", redis.Server.Port),
            KeyPrefix = _prefix,
            Timeout = TimeSpan.FromSeconds(5),
        }, logs.Factory.CreateLogger("state"), time);
        var policy = new LockoutPolicy(3, TimeSpan.FromMinutes(15), TimeSpan.Zero);
        var memory = new MemoryLoginCounts(policy, time);
        var shared = new RedisLoginCounts(store, policy, time);
        var random = new Random(11);
        string?[] users = ["alice", "bob", null];
        string[] addresses = ["192.0.2.1", "2001:db8::7", "203.0.113.5"];
        var locks = 0;
        for (var i = 0; i < 400; i++)
        {
            time.Advance(TimeSpan.FromSeconds(random.Next(0, 240)));
            var user = users[random.Next(users.Length)];
            var address = addresses[random.Next(addresses.Length)];
            switch (random.Next(10))
            {
                case < 4:
                    Assert.Equal(memory.Locked(user, address), await shared.LockedAsync(user, address, default));
                    break;
                case < 9:
                    var locked = memory.Failed(user, address);
                    Assert.Equal(locked, await shared.FailedAsync(user, address, default));
                    locks += locked is null ? 0 : 1;
                    break;
                default:
                    memory.Succeeded(user ?? "alice", address);
                    await shared.SucceededAsync(user ?? "alice", address, default);
                    break;
            }
        }
        Assert.InRange(locks, 5, 400); // the sequence did lock names and addresses, not only count
    }

    [Fact]
    public async Task Failures_on_one_gateway_lock_the_user_out_on_another_sharing_the_redis()
    {
        await using var a = await ConsoleSite.StartAsync(Lockout, extra: State(redis.Server));
        await using var b = await ConsoleSite.StartAsync(Lockout, extra: State(redis.Server));
        using var onA = a.Client(out _);
        using var onB = b.Client(out _);
        foreach (var password in new[] { "wrong", "wrong again", "still wrong" })
        {
            using var failed = await ConsoleSite.LogInAsync(onA, "alice", password);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using (var locked = await ConsoleSite.LogInAsync(onB, "alice", ConsoleSite.AlicePassword))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
            Assert.Contains("Too many failed logins", await locked.Content.ReadAsStringAsync());
        }
        Assert.Contains(b.Gateway.Logs.Lines, l => l.Contains("console login refused user=alice client=127.0.0.1: user locked out", StringComparison.Ordinal));
        // The address is locked on both too; from another address, alice's name still is.
        using (var address = await ConsoleSite.LogInAsync(onB, "bob", ConsoleSite.BobPassword))
            Assert.Equal(HttpStatusCode.TooManyRequests, address.StatusCode);
        using var elsewhere = From(b, IPAddress.Parse("127.0.0.2"));
        using (var user = await ConsoleSite.LogInAsync(elsewhere, "alice", ConsoleSite.AlicePassword))
            Assert.Equal(HttpStatusCode.TooManyRequests, user.StatusCode);
        using (var bob = await ConsoleSite.LogInAsync(elsewhere, "bob", ConsoleSite.BobPassword))
            Assert.Equal(HttpStatusCode.Redirect, bob.StatusCode);
        Assert.DoesNotContain(a.Gateway.Logs.Lines.Concat(b.Gateway.Logs.Lines), l => l.Contains("console lockout:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_redis_the_memory_counts_still_lock_and_the_outage_is_logged_once_at_each_end()
    {
        using var own = RedisServer.Start();
        await using var site = await ConsoleSite.StartAsync(Lockout, extra: State(own, "250ms"));
        using var client = site.Client(out _);
        using (var first = await ConsoleSite.LogInAsync(client, "alice", "wrong"))
            Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);

        own.Stop();
        await site.Gateway.Logs.WaitForAsync(l => l.Contains("state backend redis", StringComparison.Ordinal) && l.Contains("unavailable", StringComparison.Ordinal));
        foreach (var password in new[] { "wrong again", "still wrong" })
        {
            using var failed = await ConsoleSite.LogInAsync(client, "alice", password);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        // The failure before the outage counts too: three in this gateway's memory lock alice and the address.
        using (var locked = await ConsoleSite.LogInAsync(client, "alice", ConsoleSite.AlicePassword))
            Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Single(site.Gateway.Logs.Lines, l => l.Contains("console lockout: shared state unavailable", StringComparison.Ordinal));

        own.Restart();
        await site.Gateway.Logs.WaitForAsync(l => l.Contains("state backend redis", StringComparison.Ordinal) && l.Contains("available again", StringComparison.Ordinal));
        using var elsewhere = From(site, IPAddress.Parse("127.0.0.2"));
        using (var bob = await ConsoleSite.LogInAsync(elsewhere, "bob", ConsoleSite.BobPassword))
            Assert.Equal(HttpStatusCode.Redirect, bob.StatusCode);
        // Redis came back empty, but this gateway's memory still holds the lock it took during the outage.
        using (var still = await ConsoleSite.LogInAsync(elsewhere, "alice", ConsoleSite.AlicePassword))
            Assert.Equal(HttpStatusCode.TooManyRequests, still.StatusCode);
        Assert.Single(site.Gateway.Logs.Lines, l => l.Contains("console lockout: redis", StringComparison.Ordinal) && l.Contains("available again", StringComparison.Ordinal));
        Assert.Single(site.Gateway.Logs.Lines, l => l.Contains("console lockout: shared state unavailable", StringComparison.Ordinal));
    }

    /// <summary>A burst of concurrent attempts: each is checked after the one before it was counted, so only the allowed failures are tried.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_burst_of_concurrent_attempts_gets_no_more_tries_than_the_limit(bool shared)
    {
        await using var site = await ConsoleSite.StartAsync(Lockout, extra: shared ? State(redis.Server) : "");
        using var client = site.Client(out _);
        var token = await ConsoleSite.TokenAsync(client, "/login");
        var attempts = Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["csrf"] = token, ["user"] = "alice", ["password"] = $"guess {i}",
            }));
            return response.StatusCode;
        });
        var answers = await Task.WhenAll(attempts);
        Assert.Equal(3, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.Equal(9, answers.Count(a => a == HttpStatusCode.TooManyRequests));
    }

    /// <summary>A client of <paramref name="site"/> whose connections come from <paramref name="source"/> (another loopback address).</summary>
    private static HttpClient From(ConsoleSite site, IPAddress source)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = site.Uri, Timeout = TimeSpan.FromSeconds(60) };
    }
}
