using Gateway.Tests.Support;

namespace Gateway.Tests.Admin;

/// <summary>/metrics over loopback after real SMTP transactions: the counters move by what happened, in the Prometheus text format.</summary>
[Collection("metrics")]
public class MetricsTests
{
    private const string Rules = """
        rules:
          - id: no-lottery
            match: { subject: { regex: "lottery" } }
            action: reject
            reply: "550 5.7.1 Lottery mail is not welcome here"
          - id: watch-casino
            mode: monitor
            match: { subject: { glob: "*casino*" } }
            action: reject
        """;

    private static async Task SendAsync(GatewayHost gateway, string subject, string rcpt, string expectRcpt, string? expectData)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith(expectRcpt, await c.CommandAsync($"RCPT TO:<{rcpt}>"));
            if (expectData is not null)
            {
                Assert.StartsWith("354", await c.CommandAsync("DATA"));
                Assert.StartsWith(expectData, await c.CommandAsync($"Subject: {subject}\r\n\r\nbody\r\n."));
            }
            Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        }
    }

    [Fact]
    public async Task Transactions_replies_decisions_and_rule_matches_are_counted_and_scraped_in_the_text_format()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("rules:\n  files: [\"rules/*.yaml\"]\n", upstream,
            prepareDirectory: dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, "rules"));
                File.WriteAllText(Path.Combine(dir, "rules", "test.yaml"), Rules);
            });
        await using var admin = await AdminClient.StartAsync(gateway);
        var before = await admin.ScrapeAsync();

        await SendAsync(gateway, "hello", "bob@example.test", "250", "250");
        await SendAsync(gateway, "hello", "eve@other.test", "554", null);
        await SendAsync(gateway, "cheap casino chips", "bob@example.test", "250", "250");
        await SendAsync(gateway, "you won the lottery", "bob@example.test", "250", "550");
        // A session's metrics are all recorded before its end is logged.
        var ends = 0;
        await gateway.Logs.WaitForAsync(l => l.Contains("session end") && ++ends == 4);

        var after = await admin.ScrapeAsync();
        double Delta(string key) => after.GetValueOrDefault(key) - before.GetValueOrDefault(key);
        Assert.Equal(2, Delta("gateway_transactions_total{outcome=\"delivered\"}"));
        Assert.Equal(2, Delta("gateway_transactions_total{outcome=\"rejected\"}"));
        Assert.Equal(0, Delta("gateway_transactions_total{outcome=\"abandoned\"}"));
        Assert.Equal(2, Delta("gateway_replies_total{class=\"5xx\"}"));
        Assert.Equal(3, Delta("gateway_replies_total{class=\"3xx\"}"));
        Assert.Equal(4, Delta("gateway_sessions_total"));
        Assert.Equal(before["gateway_sessions_active"], after["gateway_sessions_active"]);
        Assert.Equal(2, Delta("gateway_decisions_total{by=\"upstream\"}"));
        Assert.Equal(1, Delta("gateway_decisions_total{by=\"relay\"}"));
        Assert.Equal(1, Delta("gateway_decisions_total{by=\"rule:no-lottery\"}"));
        Assert.Equal(1, Delta("gateway_rule_matches_total{rule=\"watch-casino\",mode=\"monitor\"}"));
        Assert.Equal(1, Delta("gateway_rule_matches_total{rule=\"no-lottery\",mode=\"enforce\"}"));
        Assert.Equal(0, Delta("gateway_rule_matches_total{rule=\"no-lottery\",mode=\"monitor\"}"));
        Assert.Equal(2, Delta("gateway_upstream_duration_seconds_count"));
        Assert.Equal(2, Delta("gateway_upstream_duration_seconds_bucket{le=\"+Inf\"}"));
        Assert.True(Delta("gateway_filter_duration_seconds_count{filter=\"rules\"}") >= 3);
        Assert.Equal(1, after[$"gateway_rules_info{{hash=\"{gateway.Config.Rules.Set.Hash}\"}}"]);
        Assert.Contains("gateway_quarantine_messages", after.Keys);
        Assert.Contains("gateway_state_errors_total", after.Keys);
        Assert.Contains("gateway_dns_queries_total{result=\"failure\"}", after.Keys);
        Assert.Contains("gateway_config_reloads_total{result=\"failed\"}", after.Keys);
    }

    [Fact]
    public async Task A_failed_upstream_is_counted_by_host()
    {
        int port;
        await using (var down = new FakeUpstream())
            port = down.Port;
        await using var gateway = await GatewayHost.StartAsync(upstreamYaml: "", yaml: $"upstream:\n  hosts: [\"127.0.0.1:{port}\"]\n  tls: none\n  timeout: 5s\n");
        await using var admin = await AdminClient.StartAsync(gateway);
        await Mail.SendAsync(gateway.Port, Mail.Message()).ContinueWith(_ => { });
        await gateway.Logs.WaitForAsync(l => l.Contains("session end"));
        var after = await admin.ScrapeAsync();
        Assert.True(after[$"gateway_upstream_errors_total{{host=\"127.0.0.1:{port}\"}}"] >= 1);
    }
}
