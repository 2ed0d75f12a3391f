using System.Text;
using Gateway.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway test-rules</c>: runs the rule test cases (<c>rules/tests/*.yaml</c> beside the configuration) through
/// the pipeline offline, exactly as <c>gateway explain</c> does, compares verdict, reply, symbols and added
/// headers with what each case expects, prints a readable difference for each failure, and ends with the rules
/// no case made match.
/// </summary>
public static class TestRulesCommand
{
    private sealed record Case(string File, long Line, string Name, byte[] Message, ExplainCommand.Options Input,
        string? Verdict, string? Reply, IReadOnlyList<string> Symbols, IReadOnlyList<string> NotSymbols, IReadOnlyList<string> Headers);

    public static async Task<int> RunAsync(string configPath, IReadOnlyList<string>? testFiles, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (CheckCommand.Load(configPath, stderr, "; no rule tests run") is not { } config)
            return 1;
        var files = testFiles is { Count: > 0 } ? testFiles : DefaultFiles(configPath);
        var errors = new List<ConfigError>();
        var cases = files.SelectMany(f => Load(f, errors)).ToList();
        foreach (var error in errors)
            stderr.WriteLine(error);
        if (errors.Count > 0)
            return 1;

        var failed = 0;
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in cases)
        {
            var report = await ExplainCommand.ExplainAsync(config, c.Input, c.Message, cancellationToken).ConfigureAwait(false);
            foreach (var rule in report.Rules.Where(r => r.Matched))
                matched.Add(rule.Rule);
            var differences = Compare(c, report);
            var where = $"{Path.GetRelativePath(Directory.GetCurrentDirectory(), c.File)}:{c.Line}";
            if (differences.Count == 0)
            {
                stdout.WriteLine($"PASS  {where}  {c.Name}");
                continue;
            }
            failed++;
            stdout.WriteLine($"FAIL  {where}  {c.Name}");
            foreach (var d in differences)
                stdout.WriteLine($"        {d}");
            stdout.WriteLine($"        (symbols: {string.Join(", ", report.Symbols)}; decided by {report.DecidedBy})");
        }
        var rules = config.Rules.Set.Rules.Select(r => r.Id).ToList();
        var never = rules.Where(r => !matched.Contains(r)).ToList();
        stdout.WriteLine($"{cases.Count} cases: {cases.Count - failed} passed, {failed} failed");
        stdout.WriteLine($"coverage: {rules.Count - never.Count} of {rules.Count} rules matched by a case" + (never.Count > 0 ? $"; never: {string.Join(", ", never)}" : ""));
        return failed == 0 && cases.Count > 0 ? 0 : 1;
    }

    private static IReadOnlyList<string> DefaultFiles(string configPath)
    {
        var directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, "rules", "tests");
        return Directory.Exists(directory) ? [.. Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal)] : [];
    }

    private static List<string> Compare(Case c, ExplainCommand.Report report)
    {
        var differences = new List<string>();
        if (c.Verdict is not null && c.Verdict != report.Verdict)
            differences.Add($"verdict: expected {c.Verdict}, got {report.Verdict}");
        if (c.Reply is not null && c.Reply != report.Reply)
            differences.Add($"reply:   expected \"{c.Reply}\", got \"{report.Reply}\"");
        foreach (var symbol in c.Symbols.Where(s => !report.Symbols.Contains(s)))
            differences.Add($"symbol {symbol}: expected, missing");
        foreach (var symbol in c.NotSymbols.Where(s => report.Symbols.Contains(s)))
            differences.Add($"symbol {symbol}: not expected, present");
        foreach (var header in c.Headers.Where(h => !report.Headers.Any(added => added.StartsWith(h, StringComparison.Ordinal))))
            differences.Add($"header \"{header}\": expected among the added headers, missing");
        return differences;
    }

    private static List<Case> Load(string file, List<ConfigError> errors)
    {
        var sink = new ConfigErrorSink(file);
        var cases = new List<Case>();
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError(file, 0, 0, $"cannot read the test file: {e.Message}"));
            return cases;
        }
        if (YamlText.TryLoad(text, sink, out var root))
        {
            var top = YamlMappingReader.For(root, "", sink);
            var list = top.Get("cases") as YamlSequenceNode;
            top.RejectUnknownKeys();
            for (var i = 0; i < (list?.Children.Count ?? 0); i++)
            {
                if (ReadCase(YamlMappingReader.For(list!.Children[i], $"cases[{i}]", sink), file) is { } c)
                    cases.Add(c);
            }
        }
        errors.AddRange(sink.Errors);
        return cases;
    }

    private static Case? ReadCase(YamlMappingReader r, string file)
    {
        var name = r.String("name") ?? $"case at line {r.Node.Start.Line}";
        var (messageFile, messageNode) = r.StringWithNode("message");
        var inline = r.String("inline");
        var (dnsFile, dnsNode) = r.StringWithNode("dns");
        var input = new ExplainCommand.Options("", file, r.String("client_ip") ?? "192.0.2.1", r.String("helo") ?? "client.example",
            r.String("from") ?? "sender@sender.test", [.. r.StringList("to").Select(t => t.Value)], Json: false);
        var expect = r.Mapping("expect");
        var verdict = expect.String("verdict");
        var reply = expect.String("reply");
        var symbols = expect.StringList("symbols").Select(s => s.Value).ToList();
        var notSymbols = expect.StringList("not_symbols").Select(s => s.Value).ToList();
        var headers = expect.StringList("headers").Select(s => s.Value).ToList();
        expect.RejectUnknownKeys();
        r.RejectUnknownKeys();
        if (verdict is not (null or "forward" or "reject" or "tempfail" or "discard" or "quarantine"))
            expect.Error(expect.Get("verdict"), "'verdict' must be forward, reject, tempfail, discard or quarantine");
        if ((messageFile is null) == (inline is null))
        {
            r.Error(r.Node, "a case needs either 'message' (a file) or 'inline' (the message itself)");
            return null;
        }
        if (input.To.Count == 0)
            input = input with { To = ["user@example.test"] };
        // A rule test never asks the real DNS: answers come from the case's fixture, or nothing exists.
        var dns = new Dns.ZoneResolver();
        if (dnsFile is not null)
        {
            var dnsErrors = new List<ConfigError>();
            var loaded = Dns.ZoneFile.Load(Path.GetFullPath(dnsFile, Path.GetDirectoryName(Path.GetFullPath(file))!), dnsErrors);
            foreach (var error in dnsErrors)
                r.Error(dnsNode, $"'dns': {error.Message}");
            if (loaded is null)
                return null;
            dns = loaded;
        }
        input = input with { Dns = dns };
        byte[] message;
        if (inline is not null)
            message = Encoding.UTF8.GetBytes(inline);
        else
        {
            var path = Path.GetFullPath(messageFile!, Path.GetDirectoryName(Path.GetFullPath(file))!);
            try
            {
                message = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                r.Error(messageNode, $"cannot read message {messageFile}: {e.Message}");
                return null;
            }
        }
        return new Case(file, r.Node.Start.Line, name, message, input, verdict, reply, symbols, notSymbols, headers);
    }
}
