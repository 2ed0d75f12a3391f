using Gateway.Configuration;
using Gateway.Tests.Support;
using Gateway.Transports.Milter;

namespace Gateway.Tests.Configuration;

/// <summary>The <c>milter</c> section: read and validated like the others, its listeners named as restart-only on reload.</summary>
public sealed class MilterConfigTests
{
    private static ConfigResult Load(string milter) => ConfigLoader.Load(
        "relay: { domains: [example.test] }\nupstream: { directory: out }\n" + milter, "t.yaml", "/etc/gateway");

    [Fact]
    public void Absent_means_no_milter_and_present_reads_every_key()
    {
        Assert.Null(Load("").Config!.Milter);

        var defaults = Load("milter: {}\n").Config!.Milter!;
        Assert.Equal("127.0.0.1:11332", Assert.Single(defaults.Listen).ToString());
        Assert.Equal(MilterQuarantine.Gateway, defaults.Quarantine);
        Assert.Equal(TimeSpan.FromMinutes(10), defaults.CommandTimeout);

        var result = Load("""
            milter:
              listen: ["127.0.0.1:11332", "[::1]:11332", "unix:run/milter.sock"]
              quarantine: mta
              max_connections: 50
              command_timeout: 6m
              session_timeout: 2h
            """);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var milter = result.Config!.Milter!;
        Assert.Equal(["127.0.0.1:11332", "[::1]:11332", "unix:/etc/gateway/run/milter.sock"], milter.Listen.Select(e => e.ToString()));
        Assert.Equal(MilterQuarantine.Mta, milter.Quarantine);
        Assert.Equal(50, milter.MaxConnections);
        Assert.Equal(TimeSpan.FromMinutes(6), milter.CommandTimeout);
        Assert.Equal(TimeSpan.FromHours(2), milter.SessionTimeout);
    }

    [Fact]
    public void Every_mistake_is_reported_with_its_place()
    {
        var result = Load($$"""
            milter:
              listen: ["localhost:11332", "unix:", "unix:/{{new string('a', 120)}}", "127.0.0.1:1", "127.0.0.1:1"]
              quarantine: hold
              max_connections: 0
              colour: blue
            """);
        Assert.False(result.IsValid);
        var errors = string.Join("\n", result.Errors);
        Assert.Contains("'milter.listen' entry 'localhost:11332' must be an IP address and port", errors);
        Assert.Contains("'milter.listen' entry 'unix:' needs a socket path", errors);
        Assert.Contains("at most 107 bytes", errors);
        Assert.Contains("names 127.0.0.1:1 twice", errors);
        Assert.Contains("'milter.quarantine' must be one of gateway | mta, not 'hold'", errors);
        Assert.Contains("milter.max_connections", errors);
        Assert.Contains("colour", errors);
        Assert.All(result.Errors, e => Assert.True(e.Line > 0, e.ToString()));
    }

    [Fact]
    public async Task A_changed_milter_listener_is_named_as_needing_a_restart()
    {
        await using var gateway = await GatewayHost.StartAsync("milter: { listen: [\"127.0.0.1:0\"] }\n");
        var warned = gateway.Logs.WaitForAsync(l => l.Contains("take effect only after a restart"));
        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace("milter: { listen: [\"127.0.0.1:0\"] }", "milter: { listen: [\"127.0.0.1:0\", \"127.0.0.2:0\"] }"));
        Assert.True(gateway.Server.Reload());
        Assert.Contains("milter.listen", await warned);
        Assert.DoesNotContain("server.listen", await warned);
    }
}
