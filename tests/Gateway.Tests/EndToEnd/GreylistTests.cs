using Gateway.Configuration;
using Gateway.Tests.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.EndToEnd;

/// <summary>Greylisting over SMTP, shared by two gateways through a real Redis, on a clock the test moves.</summary>
public sealed class GreylistTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    /// <summary>A gateway like <see cref="GatewayHost"/>'s, with the clock of rate limits and greylisting given.</summary>
    private sealed class TimedGateway : IAsyncDisposable
    {
        private readonly TempDirectory _directory = new();

        public GatewayServer Server { get; private set; } = null!;

        public LogCollector Logs { get; } = new();

        public int Port => Server.Endpoints[0].Port;

        public static async Task<TimedGateway> StartAsync(string yaml, FakeUpstream upstream, TimeProvider time)
        {
            var gateway = new TimedGateway();
            var path = gateway._directory.Write("gateway.yaml", $"""
                server: {"{"} listen: ["127.0.0.1:0"], hostname: mx.test.example {"}"}
                relay: {"{"} domains: [example.test] {"}"}
                upstream: {"{"} hosts: ["{upstream.HostPort}"], tls: none, timeout: 10s {"}"}
                {yaml}
                """);
            var result = ConfigLoader.LoadFile(path);
            Assert.True(result.IsValid, string.Join("\n", result.Errors));
            gateway.Server = new GatewayServer(result.Config!, gateway.Logs.Factory, configPath: path, time: time);
            await gateway.Server.StartAsync();
            return gateway;
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            _directory.Dispose();
        }
    }

    private string Yaml => $"""
        state: {"{"} backend: redis, redis: {"{"} endpoint: "{redis.Server.Endpoint}", key_prefix: "gl{Guid.NewGuid():N}:", timeout: 5s {"}"} {"}"}
        pipeline:
          rcpt_to: [{"{"} type: greylist, delay: 5m, skip_spf_pass: false {"}"}]
        """;

    [Fact]
    public async Task A_retry_after_the_delay_passes_on_the_other_gateway()
    {
        await using var upstream = new FakeUpstream();
        var yaml = Yaml;
        await using var a = await TimedGateway.StartAsync(yaml, upstream, _time);
        await using var b = await TimedGateway.StartAsync(yaml, upstream, _time);

        var (first, _) = await RawSmtpClient.OpenAsync(a.Port);
        await using (first)
        {
            Assert.StartsWith("250", await first.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await first.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.Equal("451 4.7.1 Greylisted, try again in 300 seconds (greylist)", await first.CommandAsync("RCPT TO:<bob@example.test>"));
        }
        var line = await a.Logs.WaitForAsync(l => l.Contains("transaction", StringComparison.Ordinal) && l.Contains("bob@example.test", StringComparison.Ordinal));
        Assert.Contains("by greylist", line);

        _time.Advance(TimeSpan.FromMinutes(2));
        var (early, _) = await RawSmtpClient.OpenAsync(b.Port);
        await using (early)
        {
            Assert.StartsWith("250", await early.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await early.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.Equal("451 4.7.1 Greylisted, try again in 180 seconds (greylist)", await early.CommandAsync("RCPT TO:<bob@example.test>"));
        }

        _time.Advance(TimeSpan.FromMinutes(3));
        var (retry, _) = await RawSmtpClient.OpenAsync(b.Port);
        await using (retry)
        {
            await Mail.BeginDataAsync(retry);
            Assert.StartsWith("250", await retry.CommandAsync("Subject: retried\r\n\r\nHello.\r\n."));
        }
        Assert.Equal(["bob@example.test"], Assert.Single(upstream.Messages).RcptTo);
    }
}
