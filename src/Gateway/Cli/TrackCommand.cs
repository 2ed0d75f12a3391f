using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Tracking;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway track</c>: finds transactions in the tracking store. A table by default (newest first), JSON with
/// --json; --id shows each matching transaction whole, with its recipients' replies and the evidence filter by filter.
/// </summary>
public static class TrackCommand
{
    public sealed record Options(string? Id, string? From, string? To, string? Subject, string? Since, IReadOnlyList<string> Outcomes, int Limit, bool Json);

    private static readonly string[] OutcomeNames = [.. Enum.GetValues<TransactionOutcome>().Select(TrackedTransaction.Name)];

    public static async Task<int> RunAsync(string configPath, Options options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (CheckCommand.Load(configPath, stderr) is not { } config)
            return 1;
        if (config.Tracking is null)
        {
            stderr.WriteLine($"{configPath}: no 'tracking' section: nothing is recorded");
            return 1;
        }
        DateTimeOffset? since = null;
        if (options.Since is { } text)
        {
            if (ParseSince(text, DateTimeOffset.UtcNow) is not { } parsed)
            {
                stderr.WriteLine($"--since '{text}': give a time (2026-12-07, 2026-12-07T08:00:00Z) or how long ago (30m, 2h, 7d)");
                return 1;
            }
            since = parsed;
        }
        var outcomes = options.Outcomes.SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(o => o.ToLowerInvariant()).ToList();
        if (outcomes.FirstOrDefault(o => !OutcomeNames.Contains(o)) is { } unknown)
        {
            stderr.WriteLine($"--outcome '{unknown}': one of {string.Join(", ", OutcomeNames)}");
            return 1;
        }
        var api = new TrackingApi(config, new TextWriterLogger(stderr, "track"));
        IReadOnlyList<TrackedTransaction> found;
        try
        {
            found = await api.SearchAsync(new TrackingQuery
            {
                Id = options.Id, From = options.From, To = options.To, Subject = options.Subject, Since = since, Outcomes = outcomes, Limit = options.Limit,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException)
        {
            stderr.WriteLine($"tracking store {config.Tracking.Describe()}: {e.Message}");
            return 1;
        }
        if (options.Id is not null && found.Count == 0)
        {
            stderr.WriteLine($"no transaction '{options.Id}'");
            return 1;
        }
        if (options.Json)
        {
            stdout.WriteLine(options.Id is not null && found.Count == 1
                ? JsonSerializer.Serialize(found[0], TrackedTransaction.Json)
                : JsonSerializer.Serialize(found, TrackedTransaction.Json));
            return 0;
        }
        if (options.Id is not null)
        {
            foreach (var t in found)
                stdout.Write(Details(t));
            return 0;
        }
        stdout.Write(Table(found));
        return 0;
    }

    public static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        // Longer ago than a date can say (9999999d): since the beginning, not an exception.
        if (Units.TryParseDuration(text, out var ago))
            return ago < now - DateTimeOffset.MinValue ? now - ago : DateTimeOffset.MinValue;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    public static string Table(IReadOnlyList<TrackedTransaction> rows)
    {
        var b = new StringBuilder();
        b.AppendLine("TIME (UTC)           ID                 OUTCOME      FROM                           TO                             BY                   SUBJECT");
        foreach (var t in rows)
        {
            var to = t.Recipients.Count switch
            {
                0 => "",
                1 => t.Recipients[0].Address,
                _ => $"{t.Recipients[0].Address} +{t.Recipients.Count - 1}",
            };
            b.Append(CultureInfo.InvariantCulture, $"{t.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {Cut(t.Id, 17),-17}  {t.Outcome,-11}  {Cut(Show(t.Sender), 29),-29}  {Cut(to, 29),-29}  {Cut(t.DecidedBy, 19),-19}  {Cut(Printable(t.Subject ?? ""), 50)}")
                .AppendLine();
        }
        return b.ToString();
    }

    public static string Details(TrackedTransaction t)
    {
        var b = new StringBuilder();
        void Line(string name, string? value) => b.Append(CultureInfo.InvariantCulture, $"{name,-11}{Printable(value ?? "")}").AppendLine();
        Line("id", t.Id);
        Line("time", $"{t.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} UTC, {t.DurationMs.ToString(CultureInfo.InvariantCulture)} ms, on {t.Gateway}");
        Line("client", $"{t.ClientAddress}{(t.ClientName is null ? "" : $" ({t.ClientName})")} helo {t.Helo} tls {t.Tls}");
        Line("from", Show(t.Sender));
        foreach (var r in t.Recipients)
            Line("to", $"<{r.Address}> {(r.Accepted ? "accepted" : "refused")} -> {r.Outcome}: {r.Reply}{(r.RefusedBy is null ? "" : $" (by {r.RefusedBy})")}");
        Line("message-id", t.MessageId);
        Line("subject", t.Subject);
        Line("size", t.Size.ToString(CultureInfo.InvariantCulture));
        Line("outcome", $"{t.Outcome}, decided by {t.DecidedBy}, score {t.Score.ToString(CultureInfo.InvariantCulture)}");
        Line("reply", t.Reply);
        Line("upstream", t.Upstream);
        Line("auth", t.Auth);
        if (t.QuarantineId is not null)
            Line("quarantine", t.QuarantineId);
        Line("symbols", string.Join(", ", t.Symbols.Select(Symbol)));
        Line("rules", t.RuleSet);
        b.AppendLine("evidence");
        foreach (var e in t.Evidence)
        {
            b.Append(CultureInfo.InvariantCulture, $"  {e.Phase,-8} {e.Filter,-24} {e.Verdict}{(e.Source != e.Filter ? $" ({e.Source})" : "")}{(e.Reply is null ? "" : $" {e.Reply}")}").AppendLine();
            foreach (var s in e.Symbols)
                b.Append("             ").AppendLine(Printable(Symbol(s)));
        }
        b.AppendLine();
        return b.ToString();
    }

    private static string Symbol(TrackedSymbol s) =>
        s.Detail is null ? $"{s.Name}({s.Score.ToString("0.##", CultureInfo.InvariantCulture)})" : $"{s.Name}({s.Score.ToString("0.##", CultureInfo.InvariantCulture)}: {s.Detail})";

    private static string Show(string? sender) => sender is null ? "-" : $"<{sender}>";

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>A sender's control characters shown as \x.. so that they cannot move the terminal's cursor.</summary>
    private static string Printable(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString())) : text;
}
