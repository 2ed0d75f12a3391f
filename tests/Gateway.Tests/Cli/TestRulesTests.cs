using Gateway.Cli;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cli;

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
