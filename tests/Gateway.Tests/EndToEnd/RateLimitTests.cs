using Gateway.Tests.State;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Rate limits over SMTP: in memory, and shared by two gateways through a real Redis (stopped mid-run too).</summary>
public sealed class RateLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly string _prefix = "e2e" + Guid.NewGuid().ToString("N")[..8] + ":";

    /// <param name="timeout">Short where a test stops Redis and times the failure; else generous, so that a loaded machine's
    /// slow answer is not taken for an outage (on_backend_error: allow would let the message through).</param>
    private string RedisState(string onError = "allow", RedisServer? server = null, string timeout = "5s") =>
        $"state: {{ backend: redis, on_backend_error: {onError}, redis: {{ endpoint: \"{(server ?? redis.Server).Endpoint}\", key_prefix: \"{_prefix}\", timeout: {timeout} }} }}\n";

    private const string MessagesPerSender = "pipeline:\n  mail_from: [{ type: rate_limit, name: msg-rate, key: sender, limit: 6, window: 1h }]\n";

    private static async Task<string> MailFromAsync(int port)
    {
        var (client, greeting) = await RawSmtpClient.OpenAsync(port);
        await using (client)
        {
            Assert.StartsWith("220", greeting);
            Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
            var reply = await client.CommandAsync("MAIL FROM:<alice@sender.test>");
            await client.CommandAsync("QUIT");
            return reply;
        }
    }

    [Fact]
    public async Task Two_gateways_sharing_redis_enforce_one_limit_exactly()
    {
        await using var a = await GatewayHost.StartAsync(RedisState() + MessagesPerSender);
        await using var b = await GatewayHost.StartAsync(RedisState() + MessagesPerSender);

        // Twelve transactions at once, six on each gateway: exactly six of them fit in the shared limit.
        var replies = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => MailFromAsync(i % 2 == 0 ? a.Port : b.Port)));

        Assert.Equal(6, replies.Count(r => r.StartsWith("250", StringComparison.Ordinal)));
        var refused = replies.Where(r => !r.StartsWith("250", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, refused.Count);
        Assert.All(refused, r => Assert.Matches(@"^451 4\.7\.1 Too many messages from alice@sender\.test, try again in \d+ seconds \(msg-rate\)$", r));
        Assert.Contains("451 4.7.1", await MailFromAsync(a.Port));
        Assert.Contains("451 4.7.1", await MailFromAsync(b.Port));
    }

    [Fact]
    public async Task A_connection_over_the_rate_gets_421_4_7_0_and_is_closed_at_once()
    {
        await using var gateway = await GatewayHost.StartAsync("pipeline:\n  connect: [{ type: rate_limit, name: conn-rate, key: client_ip, limit: 2, window: 1m }]\n");
        for (var i = 0; i < 2; i++)
        {
            var (ok, _) = await RawSmtpClient.OpenAsync(gateway.Port);
            await using (ok)
                Assert.StartsWith("250", await ok.CommandAsync("EHLO client.test"));
        }

        // Refused instead of the greeting: the client gets no SMTP service at all.
        var (client, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (client)
        {
            Assert.Matches(@"^421 4\.7\.0 Too many connections from 127\.0\.0\.1, try again in \d+ seconds \(conn-rate\)$", greeting);
            Assert.True(await client.IsClosedAsync());
        }
    }

    [Fact]
    public async Task A_reload_that_leaves_the_state_section_alone_keeps_the_counters()
    {
        const string Yaml = "pipeline:\n  mail_from: [{ type: rate_limit, key: client_ip, limit: 2, window: 1h }]\n";
        await using var gateway = await GatewayHost.StartAsync(Yaml);
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));

        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        File.WriteAllText(path, File.ReadAllText(path) + "limits: { max_errors: 11 }\n");
        Assert.True(gateway.Server.Reload());

        Assert.StartsWith("451 4.7.1", await MailFromAsync(gateway.Port));
    }

    [Fact]
    public async Task Redis_stopped_mid_run_lets_mail_through_with_allow_and_recovers_when_it_returns()
    {
        using var own = RedisServer.Start();
        await using var gateway = await GatewayHost.StartAsync(RedisState("allow", own, "250ms") +
            "pipeline:\n  mail_from: [{ type: rate_limit, name: msg-rate, key: sender, limit: 2, window: 1h }]\n");
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));

        own.Stop();
        await gateway.Logs.WaitForAsync(l => l.Contains("state backend redis", StringComparison.Ordinal) && l.Contains("unavailable", StringComparison.Ordinal));
        for (var i = 0; i < 4; i++)
            Assert.StartsWith("250", await MailFromAsync(gateway.Port)); // over the limit, but nobody can count
        Assert.Single(gateway.Logs.Lines, l => l.Contains("unavailable", StringComparison.Ordinal) && l.StartsWith("Warning", StringComparison.Ordinal));

        own.Restart(); // an empty Redis: counting starts again
        await gateway.Logs.WaitForAsync(l => l.Contains("available again", StringComparison.Ordinal));
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));
        Assert.StartsWith("451 4.7.1", await MailFromAsync(gateway.Port));
    }

    [Fact]
    public async Task Redis_stopped_mid_run_defers_mail_with_tempfail()
    {
        using var own = RedisServer.Start();
        await using var gateway = await GatewayHost.StartAsync(RedisState("tempfail", own, "250ms") + MessagesPerSender);
        Assert.StartsWith("250", await MailFromAsync(gateway.Port));

        own.Stop();
        await gateway.Logs.WaitForAsync(l => l.Contains("unavailable", StringComparison.Ordinal));
        var started = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal("451 4.3.0 Shared state unavailable, try again later (msg-rate)", await MailFromAsync(gateway.Port));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
    }
}
