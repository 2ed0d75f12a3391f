using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Gateways of a fleet sharing one PostgreSQL: one tracking store, one quarantine (message bytes included).</summary>
public class FleetTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Rules = """
        rules:
          - id: hold-invoices
            match: { subject: { regex: invoice } }
            action: quarantine
        """;

    private static Task<GatewayHost> StartAsync(string name, string connectionString, FakeUpstream upstream) => GatewayHost.StartAsync($"""
        server:
          listen: ["127.0.0.1:0"]
          hostname: {name}
        rules:
          files: ["r.yaml"]
        tracking:
          database: postgresql
          connection_string: "{connectionString}"
        quarantine:
          store: database
          retention: 14d
        """, upstream, prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "r.yaml"), Rules));

    private static async Task<string> SendAsync(GatewayHost gateway, string subject)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, "<alice@sender.test>", "<bob@example.test>");
            return await c.CommandAsync($"From: alice@sender.test\r\nSubject: {subject}\r\n\r\nbody\r\n.");
        }
    }

    [Fact]
    public async Task A_message_held_by_one_gateway_is_listed_and_released_through_another()
    {
        var database = postgres.Server.CreateDatabase();
        await using var upstreamA = new FakeUpstream();
        await using var upstreamB = new FakeUpstream();
        await using var a = await StartAsync("mx-a.test.example", database, upstreamA);
        await using var b = await StartAsync("mx-b.test.example", database, upstreamB);
        var probe = new RecordProbe();
        a.Server.Transactions.Add(probe);

        Assert.Equal("250 2.0.0 Ok: held for review", await SendAsync(a, "Your invoice"));
        var held = await probe.WaitForAsync(r => r.QuarantineId is not null);
        await a.Server.Tracking.Writer!.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(Directory.GetFiles(a.Directory, "*.eml", SearchOption.AllDirectories));

        var configB = Path.Combine(b.Directory, "gateway.yaml");
        var (_, list, _) = CliRunner.Invoke("quarantine", "list", "--subject", "invoice", "--config", configB);
        Assert.Contains(held.Id, list);
        var (_, tracked, _) = CliRunner.Invoke("track", "--outcome", "quarantined", "--config", configB);
        Assert.Contains(held.Id, tracked);
        var (_, shown, _) = CliRunner.Invoke("track", "--id", held.Id, "--config", configB);
        Assert.Contains("on mx-a.test.example", shown);

        var (exit, output, log) = CliRunner.Invoke("quarantine", "release", held.Id, "--by", "ops-bernd", "--config", configB);
        Assert.True(exit == 0, output + log);
        var message = Assert.Single(upstreamB.Messages);
        Assert.Contains("Subject: Your invoice", message.Text);
        Assert.Contains("Received: from client.test", message.Text); // the bytes held by A, as A would have forwarded them
        Assert.Empty(upstreamA.Messages);
        var (_, trail, _) = CliRunner.Invoke("quarantine", "log", "--config", Path.Combine(a.Directory, "gateway.yaml"));
        Assert.Contains($"{held.Id}  release by ops-bernd", trail);
        var (_, after, _) = CliRunner.Invoke("quarantine", "list", "--config", Path.Combine(a.Directory, "gateway.yaml"));
        Assert.DoesNotContain(held.Id, after);
    }

    [Fact]
    public async Task With_PostgreSQL_down_a_message_to_quarantine_gets_452_and_other_mail_still_flows()
    {
        var database = postgres.Server.CreateDatabase();
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync("mx-a.test.example", database, upstream);
        Assert.StartsWith("250", await SendAsync(gateway, "hello")); // the schema exists; the pool has a connection
        postgres.Server.Stop();
        try
        {
            Assert.Equal("452 4.3.1 Insufficient system storage, try again later", await SendAsync(gateway, "Your invoice"));
            Assert.StartsWith("250", await SendAsync(gateway, "hello again"));
            Assert.Equal(2, upstream.Messages.Count);
            var logged = await gateway.Logs.WaitForAsync(l => l.Contains("cannot quarantine"));
            Assert.Contains("postgresql Host=127.0.0.1", logged);
        }
        finally
        {
            postgres.Server.Start();
        }
        Assert.StartsWith("250 2.0.0 Ok: held for review", await SendAsync(gateway, "Your invoice"));
    }
}
