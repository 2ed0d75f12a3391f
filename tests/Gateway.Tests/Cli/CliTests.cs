using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Gateway.Cli;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cli;

public class CliTests
{
    private static (int Exit, string Out, string Err) Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = GatewayCommandLine.Build(stdout, stderr);
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Check_accepts_the_shipped_configuration()
    {
        var (exit, output, _) = Invoke("check", "--config", Path.Combine(RepoRoot.Find(), "gateway.yaml"));
        Assert.Equal(0, exit);
        Assert.Contains("gateway.yaml: OK", output);
    }

    [Fact]
    public void Check_prints_every_error_with_file_line_and_column_and_exits_1()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("broken.yaml", "server:\n  listen: [\"nowhere\"]\n  colour: blue\nrelay:\n  domains: [example.test]\nupstream:\n  hosts: [\"127.0.0.1:99999\"]\n");
        var (exit, _, errors) = Invoke("check", "--config", path);
        Assert.Equal(1, exit);
        Assert.Contains($"{path}:2:12: error:", errors);
        Assert.Contains($"{path}:3:3: error: unknown key 'server.colour'", errors);
        Assert.Contains($"{path}:7:11: error: 'upstream.hosts' entry '127.0.0.1:99999'", errors);
        Assert.Contains("3 error(s)", errors);
    }

    [Fact]
    public void Check_reports_a_missing_file()
    {
        var (exit, _, errors) = Invoke("check", "--config", "/nonexistent/gateway.yaml");
        Assert.Equal(1, exit);
        Assert.Contains("cannot read the configuration", errors);
    }

    [Fact]
    public void Version_and_help_are_available()
    {
        var (exit, output, _) = Invoke("--version");
        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
        (exit, output, _) = Invoke("--help");
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
            Assert.Contains(lines, l => Regex.IsMatch(l, @"transaction id=\w+\.1 client=127\.0\.0\.1 helo=client\.test tls=none from=<alice@sender\.test> to=<bob@example\.test> refused= size=\d+ score=0 symbols="""" by=upstream rules=none outcome=delivered"));
            Assert.Contains(lines, l => l.Contains("stopped"));
        }
    }

    [Fact]
    public async Task Run_logs_one_json_object_per_line_when_asked()
    {
        var (lines, dir) = await RunGatewayAsync("json");
        using (dir)
        {
            var transaction = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("EventId").GetInt32() == 100);
            var state = transaction.GetProperty("State");
            Assert.Equal("alice@sender.test", state.GetProperty("Sender").GetString());
            Assert.Equal("<bob@example.test>", state.GetProperty("Recipients").GetString());
            Assert.Equal("delivered", state.GetProperty("Outcome").GetString());
            Assert.Equal("127.0.0.1", state.GetProperty("Client").GetString());
            Assert.StartsWith("250 2.0.0", state.GetProperty("Reply").GetString());
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
                    m = Regex.Match(System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("Message").GetString()!, @"listening on 127\.0\.0\.1:(\d+)");
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

public class ExplainTests
{
    private static (int Exit, string Out, string Err) Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = GatewayCommandLine.Build(stdout, stderr).Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static (TempDirectory Dir, string Config, string Message) Setup(string message)
    {
        var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules"));
        dir.Write("rules/r.yaml", """
            rules:
              - id: lottery
                match: { subject: { regex: lottery } }
                score: 4
              - id: bulk
                match: { header: { name: Precedence, regex: "^bulk$" } }
                score: 2
              - id: blocked-net
                match: { client_ip: ["203.0.113.0/24"] }
                action: reject
            """);
        var config = dir.Write("gateway.yaml", "relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [\"rules/*.yaml\"] }\npolicy:\n  thresholds: { add_header: 3, reject: 5 }\n");
        return (dir, config, dir.Write("m.eml", message));
    }

    [Fact]
    public void Shows_every_rule_the_score_and_the_headers_that_would_be_added()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: lottery news\n\nbody\n");
        using (dir)
        {
            var (exit, output, errors) = Invoke("explain", message, "--config", config, "--from", "a@sender.test", "--to", "bob@example.test");
            Assert.True(exit == 0, errors);
            Assert.Contains("connect   blocked-net              no", output);
            Assert.Contains("data      lottery                  MATCH  none +4: subject 'lottery news' matches regex lottery", output);
            Assert.Contains("data      bulk                     no", output);
            Assert.Contains("score    4", output);
            Assert.Contains("verdict  forward (decided by upstream)", output);
            Assert.Contains("  X-Gateway-Score: 4", output);
            Assert.Contains("  X-Gateway-Symbols: lottery(4: subject 'lottery news' matches regex lottery)", output);
        }
    }

    [Fact]
    public void Gives_the_exact_reply_and_who_decided_as_json()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: lottery\nPrecedence: bulk\n\nbody\n");
        using (dir)
        {
            var (exit, output, errors) = Invoke("explain", message, "--config", config, "--from", "a@sender.test", "--to", "bob@example.test", "--json");
            Assert.True(exit == 0, errors);
            var report = System.Text.Json.JsonDocument.Parse(output).RootElement;
            Assert.Equal(6, report.GetProperty("score").GetDouble());
            Assert.Equal("reject", report.GetProperty("verdict").GetString());
            Assert.Equal("554 5.7.1 Message refused by policy (score 6 reaches 5)", report.GetProperty("reply").GetString());
            Assert.Equal("score", report.GetProperty("decided_by").GetString());
        }
    }

    [Fact]
    public void A_delayed_connect_rejection_shows_at_the_recipient()
    {
        var (dir, config, message) = Setup("From: a@sender.test\n\nbody\n");
        using (dir)
        {
            var (_, output, _) = Invoke("explain", message, "--config", config, "--client-ip", "203.0.113.5", "--from", "a@sender.test", "--to", "bob@example.test");
            Assert.Contains("rcpt     <bob@example.test>: 554 5.7.1 Rejected by policy (rule:blocked-net) (by rule:blocked-net)", output);
            Assert.Contains("reply    554 5.5.1 No valid recipients", output);
        }
    }
}

public class TestRulesTests
{
    private static async Task<(int Exit, string Out, string Err)> RunAsync(string config, params string[] files)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await TestRulesCommand.RunAsync(config, files, stdout, stderr, default);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task The_shipped_rules_pass_their_shipped_tests_and_every_rule_is_exercised()
    {
        var (exit, output, errors) = await RunAsync(Path.Combine(RepoRoot.Find(), "gateway.yaml"));
        Assert.True(exit == 0, output + errors);
        Assert.Contains("0 failed", output);
        var coverage = output.Split('\n').Single(l => l.StartsWith("coverage:", StringComparison.Ordinal));
        Assert.DoesNotContain("never", coverage);
    }

    [Fact]
    public async Task A_failing_case_shows_what_differs_and_the_coverage_names_unexercised_rules()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules", "tests"));
        dir.Write("rules/r.yaml", """
            rules:
              - id: lottery
                match: { subject: { regex: lottery } }
                action: reject
              - id: unused
                match: { subject: { regex: nothing-matches-this } }
                score: 1
              - id: phish-link
                match: { url: { domain: evil.test } }
                score: 5
            """);
        dir.Write("rules/tests/t.yaml", """
            cases:
              - name: lottery mail is refused
                inline: "Subject: lottery\n\nx\n"
                expect: { verdict: reject, symbols: [lottery] }
              - name: wrongly expected to pass
                inline: "Subject: lottery again\n\nx\n"
                expect: { verdict: forward, reply: "250 2.0.0 Ok", not_symbols: [lottery] }
              - name: a link to a subdomain of a listed domain scores
                inline: "Subject: hi\n\nsee http://www.login.evil.test/x\n"
                expect: { verdict: forward, symbols: [phish-link] }
            """);
        var config = dir.Write("gateway.yaml", "relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [\"rules/*.yaml\"] }\n");
        var (exit, output, _) = await RunAsync(config);
        Assert.Equal(1, exit);
        Assert.Contains("PASS  ", output);
        Assert.Contains("FAIL  ", output);
        Assert.Contains("verdict: expected forward, got reject", output);
        Assert.Contains("reply:   expected \"250 2.0.0 Ok\", got \"554 5.7.1 Rejected by policy (rule:lottery)\"", output);
        Assert.Contains("symbol lottery: not expected, present", output);
        Assert.Contains("3 cases: 2 passed, 1 failed", output);
        Assert.Contains("coverage: 2 of 3 rules matched by a case; never: unused", output);
    }

    [Fact]
    public async Task Broken_test_files_are_reported_with_their_position()
    {
        using var dir = new TempDirectory();
        var config = dir.Write("gateway.yaml", "relay: { domains: [example.test] }\nupstream: { directory: out }\n");
        var tests = dir.Write("t.yaml", "cases:\n  - name: no message\n    expect: { verdict: maybe }\n");
        var (exit, _, errors) = await RunAsync(config, tests);
        Assert.Equal(1, exit);
        Assert.Contains("t.yaml:3:", errors);
        Assert.Contains("'verdict' must be forward, reject, tempfail, discard or quarantine", errors);
        Assert.Contains("a case needs either 'message'", errors);
    }
}
