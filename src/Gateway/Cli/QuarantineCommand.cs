using System.Text.Json;
using Gateway.Configuration;
using Gateway.Quarantine;
using Gateway.Tracking;

namespace Gateway.Cli;

/// <summary><c>gateway quarantine list | show ID | release ID | delete ID | log [ID]</c>.</summary>
public static class QuarantineCommand
{
    /// <summary>What <c>list</c> searches for, and who acts for <c>release</c> and <c>delete</c>.</summary>
    public sealed record Options(string Action, string? Id, QuarantineQuery Query, string By, bool Json);

    /// <summary>Those told about a release: where a bayes filter is configured, it learns the released message as ham.</summary>
    public static IReadOnlyList<IQuarantineReleaseObserver> ObserversFor(GatewayConfig config, Microsoft.Extensions.Logging.ILogger logger) =>
        Detection.Bayes.BayesReleaseObserver.For(config, logger);

    public static async Task<int> RunAsync(string configPath, Options options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (CheckCommand.Load(configPath, stderr) is not { } config)
            return 1;
        if (!config.Quarantine.IsConfigured)
        {
            stderr.WriteLine($"{configPath}: no quarantine configured ('quarantine.directory', or 'quarantine.store: database')");
            return 1;
        }
        var logger = new TextWriterLogger(stderr, "quarantine");
        var api = new TrackingApi(config, logger, ObserversFor(config, logger));
        try
        {
            return await RunAsync(api, options, stdout, stderr, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException)
        {
            stderr.WriteLine($"quarantine {api.Quarantine.Describe()}: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(TrackingApi api, Options options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        switch (options.Action)
        {
            case "list":
                var entries = await api.ListQuarantineAsync(options.Query, cancellationToken).ConfigureAwait(false);
                if (options.Json)
                    stdout.WriteLine(JsonSerializer.Serialize(entries, DirectoryQuarantineStore.Json));
                else
                {
                    foreach (var e in entries)
                        stdout.WriteLine($"{e.Id}  {e.Time:yyyy-MM-dd HH:mm:ss}  {e.Client}  <{e.MailFrom}> -> {string.Join(", ", e.RcptTo.Select(r => $"<{r}>"))}  by {e.DecidedBy}  score {e.Score}  {e.Size} bytes  subject \"{e.Subject}\"  reason \"{e.Reason}\"");
                }
                return 0;
            case "log":
                foreach (var a in await api.Quarantine.AuditTrailAsync(options.Id, cancellationToken).ConfigureAwait(false))
                    stdout.WriteLine($"{a.Time:yyyy-MM-dd HH:mm:ss}  {a.Id}  {a.Action} by {a.Actor}: {a.Result}");
                return 0;
            case "release":
                var released = await api.ReleaseAsync(options.Id!, options.By, upstream: null, cancellationToken).ConfigureAwait(false);
                (released.Done ? stdout : stderr).WriteLine($"{released.Id}: {released.Message} (by {options.By})");
                return released.Done ? 0 : 1;
            case "delete":
                var deleted = await api.DeleteAsync(options.Id!, options.By, cancellationToken).ConfigureAwait(false);
                (deleted.Done ? stdout : stderr).WriteLine($"{deleted.Id}: {deleted.Message} (by {options.By})");
                return deleted.Done ? 0 : 1;
            default: // show
                if (await api.GetQuarantinedAsync(options.Id!, cancellationToken).ConfigureAwait(false) is not { } entry)
                {
                    stderr.WriteLine($"no quarantined message '{options.Id}'");
                    return 1;
                }
                if (options.Json)
                {
                    stdout.WriteLine(JsonSerializer.Serialize(entry, DirectoryQuarantineStore.Json));
                    return 0;
                }
                stdout.WriteLine($"id        {entry.Id}\ntime      {entry.Time:O}\nexpires   {entry.Expires:O}\nclient    {entry.Client} (helo {entry.Helo})\nfrom      <{entry.MailFrom}>{Parameters(entry.MailParameters)}\nto        {string.Join(", ", entry.RcptTo.Select(r => $"<{r}>"))}\nsubject   {entry.Subject}\nreason    {entry.Reason}\ndecided   {entry.DecidedBy}, score {entry.Score}\nsymbols   {string.Join(", ", entry.Symbols)}\n");
                await using (var message = await api.OpenQuarantinedMessageAsync(entry.Id, cancellationToken).ConfigureAwait(false))
                {
                    if (message is not null)
                    {
                        using var reader = new StreamReader(message);
                        stdout.Write(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
                    }
                }
                return 0;
        }
    }

    private static string Parameters(IReadOnlyDictionary<string, string?> parameters) =>
        string.Concat(parameters.Select(p => p.Value is null ? $" {p.Key}" : $" {p.Key}={p.Value}"));
}
