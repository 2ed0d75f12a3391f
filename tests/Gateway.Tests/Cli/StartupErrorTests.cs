using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cli;

/// <summary>What an administrator reads when the gateway cannot start, and `gateway config`.</summary>
public class StartupErrorTests
{
    [Fact]
    public async Task A_listen_port_in_use_names_the_endpoint_and_exits_1_without_a_stack_trace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var dir = new TempDirectory();
        var config = dir.Write("gateway.yaml", $"server:\n  listen: [\"127.0.0.1:{port}\"]\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  directory: ./delivered\n");
        var (exit, stdout, errors) = await CliRunner.RunProcessAsync(dir.Path, "run", "--config", config);
        Assert.Equal(1, exit);
        Assert.Equal($"cannot listen on 127.0.0.1:{port}: address already in use", errors.Trim());
        Assert.DoesNotContain("   at ", stdout + errors);
    }

    [Theory]
    [InlineData("server:\n  listen: [\"127.0.0.1:25\"\n", "3:1", "a [ list is not closed with ]")]
    [InlineData("server:\n\tlisten: x\n", "1:1", "a tab used for indentation")]
    [InlineData("server:\n  hostname: a: b\n", "2:14", "a 'key: value' where only a value can be")]
    [InlineData("server:\n  hostname: \"mx\n", "2:13", "a quoted value is never closed")]
    public void A_yaml_syntax_error_reads_as_plain_words_with_line_and_column(string yaml, string at, string words)
    {
        var result = ConfigLoader.Load(yaml, "gateway.yaml", Path.GetTempPath());
        var error = Assert.Single(result.Errors).ToString();
        Assert.StartsWith($"gateway.yaml:{at}", error);
        Assert.Contains("invalid YAML: " + words, error);
        Assert.DoesNotContain("Idx:", error);
        Assert.DoesNotContain("While ", error);
    }

    [Fact]
    public void Config_prints_the_effective_configuration_with_its_defaults()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("gateway.yaml", "server:\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  hosts: [\"127.0.0.1:2526\"]\nadmin: {}\n");
        var (exit, output, _) = CliRunner.Invoke("config", "--config", path);
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("server.listen = 127.0.0.1:2525", lines);
        Assert.Contains("server.hostname = mx.test.example", lines);
        Assert.Contains("limits.max_message_size = 26214400", lines);
        Assert.Contains("limits.session_timeout = 1h", lines);
        Assert.Contains("upstream.hosts = 127.0.0.1:2526", lines);
        Assert.Contains("upstream.timeout = 1m", lines);
        Assert.Contains("logging.format = text", lines);
        Assert.Contains("admin.listen = 127.0.0.1:8025", lines);
        Assert.All(lines, l => Assert.Matches(@"^[a-z_.0-9]+( \(loaded\))? = ", l));
    }

    [Fact]
    public void Config_reports_errors_like_check()
    {
        var (exit, _, errors) = CliRunner.Invoke("config", "--config", "/nonexistent/gateway.yaml");
        Assert.Equal(1, exit);
        Assert.Contains("cannot read the configuration", errors);
    }
}
