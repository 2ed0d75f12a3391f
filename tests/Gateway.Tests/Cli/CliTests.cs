using System.Diagnostics;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cli;

public class CliTests
{
    [Fact]
    public void Check_accepts_the_shipped_configuration()
    {
        var (exit, output, _) = CliRunner.Invoke("check", "--config", Path.Combine(RepoRoot.Find(), "gateway.yaml"));
        Assert.Equal(0, exit);
        Assert.Contains("gateway.yaml: OK", output);
    }

    [Fact]
    public void Check_prints_every_error_with_file_line_and_column_and_exits_1()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("broken.yaml", "server:\n  listen: [\"nowhere\"]\n  colour: blue\nrelay:\n  domains: [example.test]\nupstream:\n  hosts: [\"127.0.0.1:99999\"]\n");
        var (exit, _, errors) = CliRunner.Invoke("check", "--config", path);
        Assert.Equal(1, exit);
        Assert.Contains($"{path}:2:12: error:", errors);
        Assert.Contains($"{path}:3:3: error: unknown key 'server.colour'", errors);
        Assert.Contains($"{path}:7:11: error: 'upstream.hosts' entry '127.0.0.1:99999'", errors);
        Assert.Contains("3 error(s)", errors);
    }

    [Fact]
    public void Check_reports_a_missing_file()
    {
        var (exit, _, errors) = CliRunner.Invoke("check", "--config", "/nonexistent/gateway.yaml");
        Assert.Equal(1, exit);
        Assert.Contains("cannot read the configuration", errors);
    }

    [Fact]
    public void Version_and_help_are_available()
    {
        var (exit, output, _) = CliRunner.Invoke("--version");
        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
        (exit, output, _) = CliRunner.Invoke("--help");
        Assert.Equal(0, exit);
        Assert.Contains("run", output);
        Assert.Contains("check", output);
    }

    [Fact]
    public async Task Run_serves_mail_into_the_delivered_directory_and_stops_cleanly_on_sigterm()
    {
        var (lines, dir) = await RunGatewayAsync("text");
        using (dir)
        {
            Assert.Contains(lines, l => Regex.IsMatch(l, @"transaction id=\w+\.1 outcome=delivered by=upstream reply=""250 [^""]*"" client=127\.0\.0\.1 helo=""client\.test"" tls=none from=""<alice@sender\.test>"" to=""<bob@example\.test>"" refused="""" .*size=\d+ score=0 symbols="""" rules=none"));
            Assert.Contains(lines, l => l.Contains("stopped"));
        }
    }

    [Fact]
    public async Task Run_logs_one_json_object_per_line_when_asked()
    {
        var (lines, dir) = await RunGatewayAsync("json");
        using (dir)
        {
            var state = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Single(e => e.TryGetProperty("event", out var ev) && ev.GetString() == "transaction");
            Assert.Equal("alice@sender.test", state.GetProperty("from").GetString());
            Assert.Equal("bob@example.test", state.GetProperty("recipients")[0].GetProperty("address").GetString());
            Assert.Equal("delivered", state.GetProperty("outcome").GetString());
            Assert.Equal("127.0.0.1", state.GetProperty("client").GetString());
            Assert.StartsWith("250 2.0.0", state.GetProperty("reply").GetString());
        }
    }

    [Fact]
    public async Task Run_tells_systemd_when_it_is_ready_and_when_it_stops()
    {
        using var dir = new TempDirectory();
        var config = dir.Write("gateway.yaml", "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  directory: ./delivered\n");
        var socketPath = Path.Combine(dir.Path, "notify.sock");
        using var notify = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        notify.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        var info = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "gateway.dll"), "run", "--config", config])
        {
            RedirectStandardOutput = true,
            WorkingDirectory = dir.Path,
        };
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        using var process = Process.Start(info)!;
        try
        {
            var buffer = new byte[512];
            async Task<string> NextAsync() =>
                System.Text.Encoding.UTF8.GetString(buffer, 0, await notify.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30)));

            Assert.StartsWith("READY=1", await NextAsync());
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.StartsWith("STOPPING=1", await NextAsync());
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    /// <summary>Runs the real gateway process, sends one message, stops it with SIGTERM; returns its log lines.</summary>
    private static async Task<(List<string> Lines, TempDirectory Dir)> RunGatewayAsync(string logFormat)
    {
        var dir = new TempDirectory();
        var config = dir.Write("gateway.yaml", $"server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  directory: ./delivered\nlogging:\n  format: {logFormat}\n");
        var dll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", ["exec", dll, "run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir.Path,
        })!;
        try
        {
            var port = 0;
            var lines = new List<string>();
            while (port == 0)
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
                    ?? throw new InvalidOperationException("gateway exited: " + string.Join("\n", lines) + await process.StandardError.ReadToEndAsync());
                lines.Add(line);
                var m = Regex.Match(line, @"listening on 127\.0\.0\.1:(\d+)");
                if (!m.Success && line.StartsWith('{'))
                    m = Regex.Match(System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("message").GetString()!, @"listening on 127\.0\.0\.1:(\d+)");
                if (m.Success)
                    port = int.Parse(m.Groups[1].Value);
            }
            await Mail.SendAsync(port, Mail.Message());
            Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "delivered"), "*.eml"));

            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            var rest = await process.StandardOutput.ReadToEndAsync();
            lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            return (lines, dir);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }
}
