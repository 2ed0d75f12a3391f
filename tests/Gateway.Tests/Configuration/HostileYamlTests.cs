using System.Diagnostics;
using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Configuration and rule files written by a careless or hostile editor (or a compromised rule feed): each is
/// refused by `gateway check` as a real process, with file:line:column and exit 1, never a crash or a hang.
/// The process matters: a stack overflow cannot be caught, it would end the test host itself.
/// </summary>
public class HostileYamlTests
{
    private const string Config = "server:\n  listen: [\"127.0.0.1:0\"]\nrelay:\n  domains: [example.test]\nupstream:\n  directory: out\nrules:\n  files: [rules/*.yaml]\n";

    private static Task<(int Exit, string Out, string Err)> CheckAsync(TempDirectory dir) =>
        CliRunner.RunProcessAsync(dir.Path, "check", "--config", Path.Combine(dir.Path, "gateway.yaml"));

    private static TempDirectory WithRuleFile(string text)
    {
        var dir = new TempDirectory();
        dir.Write("gateway.yaml", Config);
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules"));
        dir.Write("rules/evil.yaml", text);
        return dir;
    }

    [Fact]
    public async Task Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        using var dir = WithRuleFile("x: " + new string('[', 100_000) + new string(']', 100_000) + "\n");
        var (exit, stdout, stderr) = await CheckAsync(dir);
        Assert.Equal(1, exit);
        Assert.Contains("evil.yaml:1:", stderr);
        Assert.Contains("nested more than 64 levels deep", stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public async Task An_alias_bomb_is_an_error_not_a_hang()
    {
        // Nine levels of ten aliases each: 10^8 conditions from a dozen lines.
        var text = new StringBuilder("rules:\n  - id: bomb\n    action: reject\n    match:\n      any:\n        - &l0 { subject: lol }\n");
        for (var i = 1; i <= 8; i++)
            text.Append($"        - &l{i} {{ any: [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}] }}\n");
        using var dir = WithRuleFile(text.ToString());
        var (exit, stdout, stderr) = await CheckAsync(dir);
        Assert.Equal(1, exit);
        Assert.Contains("evil.yaml:", stderr);
        Assert.Contains("once its aliases (*) are expanded", stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public async Task A_few_aliases_still_work()
    {
        using var dir = WithRuleFile("rules:\n  - id: a\n    action: reject\n    match: &m { subject: lol }\n  - id: b\n    score: 1\n    match: *m\n");
        var (exit, _, stderr) = await CheckAsync(dir);
        Assert.True(exit == 0, stderr);
    }

    [Theory]
    [InlineData("rules:\n  - id: r\n    action: reject\n    match: { client_ip: { list: \"lists/a\\0b.txt\" } }\n", "4:")]
    [InlineData("rules:\n  - id: r\n    action: reject\n    match: { subject: { list: \"a\\0\" } }\n", "4:")]
    public async Task A_nul_character_in_a_value_is_an_error_not_an_unhandled_exception(string rules, string line)
    {
        // Path.GetFullPath throws ArgumentException on a NUL: check printed a stack trace, and a reload threw on the
        // watcher's timer thread, which ends the gateway.
        using var dir = WithRuleFile(rules);
        var (exit, stdout, stderr) = await CheckAsync(dir);
        Assert.Equal(1, exit);
        Assert.Contains("evil.yaml:" + line, stderr);
        Assert.Contains("a NUL character", stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Theory]
    [InlineData("rules/fifo.yaml", "")]
    [InlineData("rules/lists/fifo.txt", "rules:\n  - id: r\n    action: reject\n    match: { client_ip: { list: lists/fifo.txt } }\n")]
    [InlineData("rules/lists/fifo.txt", "rules:\n  - id: r\n    action: reject\n    match: { mail_from: { list: lists/fifo.txt } }\n")]
    public async Task A_fifo_among_the_rule_files_reads_as_empty_instead_of_blocking_for_ever(string fifo, string rules)
    {
        // Opening a FIFO blocks until something writes to it: check hung, and a reload held its lock for ever.
        using var dir = WithRuleFile(rules.Length == 0 ? "rules: []\n" : rules);
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules", "lists"));
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(dir.Path, fifo)]))
            await mkfifo.WaitForExitAsync();
        var (exit, _, stderr) = await CheckAsync(dir);
        Assert.True(exit == 0, stderr);
    }
}
