using System.Security.Cryptography;
using System.Text;
using Gateway.Configuration;
using Gateway.Rules;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// <c>/rules</c>: the rule files in force with the rule set's hash (as gateway_rules_info has it), whether the files
/// on disk still match it, and each rule with its matches since start: a rule in monitor mode beside what it would
/// have done, which is how a security team decides to turn it on.
/// </summary>
public static class RulesPage
{
    public static Task RenderAsync(HttpContext context, GatewayConfig config)
    {
        var set = config.Rules.Set;
        var files = config.Rules.Files.Distinct().Order(StringComparer.Ordinal).ToList();
        var onDisk = HashOnDisk(files);
        var drift = onDisk is null ? Html.Of($"<p class=\"error\">A rule file cannot be read now.</p>")
            : onDisk != set.Hash ? Html.Of($"<p class=\"error\" id=\"drift\">The files on disk have changed since they were loaded (hash now {onDisk}): reload the gateway to apply them.</p>")
            : Html.Empty;
        var body = Html.Of($"""
            <h1>Rules</h1>
            <p>Rule set hash <code id="rules-hash">{set.Hash}</code>, {set.Rules.Count} rules from {files.Count} files. Matches are counted since the gateway started.</p>
            {drift}
            <table id="rule-files"><tr><th>File</th><th>Rules</th><th>SHA-256 (first 12)</th></tr>
            {Html.Join(files, f => Html.Of($"<tr><td>{f}</td><td class=\"n\">{set.Rules.Count(r => r.File == f)}</td><td><code>{FileHash(f)}</code></td></tr>"))}
            </table>
            <table id="rules"><tr><th>Rule</th><th>Description</th><th>Phase</th><th>Mode</th><th>Action</th><th>Matches</th><th>Where</th></tr>
            {Html.Join(set.Rules, Row)}
            </table>
            """);
        return ConsoleLayout.WriteAsync(context, "Rules", body);
    }

    private static Html Row(Rule r)
    {
        var enforce = GatewayMetrics.RuleMatchCount(r.Id, RuleMode.Enforce);
        var monitor = GatewayMetrics.RuleMatchCount(r.Id, RuleMode.Monitor);
        var action = r.Action == RuleAction.None ? $"score {r.Score}" : r.Action.ToString().ToLowerInvariant();
        var mode = r.Mode == RuleMode.Monitor
            ? Html.Of($"<td>monitor</td><td>would {action}</td><td class=\"n\">{monitor} would have{(enforce > 0 ? $" ({enforce} enforced)" : "")}</td>")
            : Html.Of($"<td>enforce</td><td>{action}</td><td class=\"n\">{enforce}{(monitor > 0 ? $" ({monitor} in monitor mode)" : "")}</td>");
        return Html.Of($"<tr id=\"rule-{r.Id}\"><td>{r.Id}</td><td>{r.Description}</td><td>{r.Phase.ToString().ToLowerInvariant()}</td>{mode}<td>{Path.GetFileName(r.File)}:{r.Line}</td></tr>");
    }

    private static string FileHash(string file)
    {
        try
        {
            return Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)))[..12];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "cannot be read";
        }
    }

    /// <summary>The rule set's hash computed as <see cref="RuleLoader"/> does, from the files as they are now; null when one cannot be read.</summary>
    private static string? HashOnDisk(IReadOnlyList<string> files)
    {
        if (files.Count == 0)
            return RuleSet.Empty.Hash;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            try
            {
                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n" + File.ReadAllText(file) + "\n"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}
