using Gateway.Configuration;
using Gateway.Quarantine;
using Gateway.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Cli;

/// <summary><c>gateway quarantine list | show ID | release ID | delete ID</c>.</summary>
public static class QuarantineCommand
{
    public static async Task<int> RunAsync(string configPath, string action, string? id, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var result = ConfigLoader.LoadFile(configPath);
        if (!result.IsValid)
        {
            CheckCommand.PrintErrors(result, configPath, stderr, "");
            return 1;
        }
        var config = result.Config!;
        if (config.Quarantine.Directory is null)
        {
            stderr.WriteLine($"{configPath}: no 'quarantine.directory' configured");
            return 1;
        }
        var store = new QuarantineStore(config.Quarantine.Directory);
        if (action == "list")
        {
            foreach (var e in store.List())
                stdout.WriteLine($"{e.Id}  {e.Time:yyyy-MM-dd HH:mm:ss}  {e.Client}  <{e.MailFrom}> -> {string.Join(", ", e.RcptTo.Select(r => $"<{r}>"))}  by {e.DecidedBy}  score {e.Score}  {e.Size} bytes");
            return 0;
        }
        if (id is null || store.Find(id) is not { } entry)
        {
            stderr.WriteLine($"no quarantined message '{id}'");
            return 1;
        }
        switch (action)
        {
            case "show":
                stdout.WriteLine($"id        {entry.Id}\ntime      {entry.Time:O}\nclient    {entry.Client} (helo {entry.Helo})\nfrom      <{entry.MailFrom}>\nto        {string.Join(", ", entry.RcptTo.Select(r => $"<{r}>"))}\ndecided   {entry.DecidedBy}, score {entry.Score}\nsymbols   {string.Join(", ", entry.Symbols)}\n");
                stdout.Write(await File.ReadAllTextAsync(store.MessagePath(entry.Id), cancellationToken).ConfigureAwait(false));
                return 0;
            case "delete":
                store.Delete(entry.Id);
                stdout.WriteLine($"deleted {entry.Id}");
                return 0;
            default: // release
                await using (var upstream = GatewayServer.CreateUpstream(config, NullLogger.Instance))
                {
                    var released = await File.ReadAllBytesAsync(store.MessagePath(entry.Id), cancellationToken).ConfigureAwait(false);
                    var outcome = await store.ReleaseAsync(entry, upstream, cancellationToken).ConfigureAwait(false);
                    stdout.WriteLine($"{(outcome.Delivered ? "released" : "not released")} {entry.Id}: {outcome.Reply} ({outcome.Detail})");
                    if (outcome.Delivered) // a message the admin judged good teaches the classifier
                        stdout.WriteLine(await Detection.Bayes.BayesFeedback.LearnReleasedAsync(config, released, cancellationToken).ConfigureAwait(false));
                    return outcome.Delivered ? 0 : 1;
                }
        }
    }
}
