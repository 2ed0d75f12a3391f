using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Tracking;

/// <summary>One recipient of a tracked transaction and the reply it ended with.</summary>
public sealed record TrackedRecipient(string Address, bool Accepted, string Reply, string Outcome, string? RefusedBy);

/// <summary>A symbol a filter added: its name, score and evidence.</summary>
public sealed record TrackedSymbol(string Name, double Score, string? Detail);

/// <summary>One filter's verdict in a tracked transaction: the evidence <c>explain</c> shows, filter by filter.</summary>
public sealed record TrackedEvidence(string Phase, string Filter, string Verdict, string Source, string? Reply, IReadOnlyList<TrackedSymbol> Symbols, double ElapsedMs);

/// <summary>
/// A finished transaction as the tracking store keeps it and its queries return it: the <see cref="TransactionRecord"/>
/// in plain values (strings, numbers), so that it reads back the same from SQLite and PostgreSQL and prints as JSON.
/// </summary>
public sealed record TrackedTransaction
{
    public required string Id { get; init; }
    public required string SessionId { get; init; }
    /// <summary>The gateway (server.hostname) that handled it: a fleet writes to one store.</summary>
    public required string Gateway { get; init; }
    public required DateTimeOffset Time { get; init; }
    public double DurationMs { get; init; }
    public required string ClientAddress { get; init; }
    public string? ClientName { get; init; }
    public string? Helo { get; init; }
    public required string Tls { get; init; }
    public string? Sender { get; init; }
    public required IReadOnlyList<TrackedRecipient> Recipients { get; init; }
    public string? MessageId { get; init; }
    public string? Subject { get; init; }
    public long Size { get; init; }
    /// <summary>delivered, rejected, tempfailed, quarantined, discarded or abandoned.</summary>
    public required string Outcome { get; init; }
    public required string DecidedBy { get; init; }
    public double Score { get; init; }
    public IReadOnlyList<TrackedSymbol> Symbols { get; init; } = [];
    /// <summary>The last reply the client got for this transaction.</summary>
    public required string Reply { get; init; }
    /// <summary>What the upstream answered, or why nothing was sent.</summary>
    public string Upstream { get; init; } = "";
    public string Auth { get; init; } = "";
    public string RuleSet { get; init; } = "";
    public string? QuarantineId { get; init; }
    public IReadOnlyList<TrackedEvidence> Evidence { get; init; } = [];

    /// <summary>snake_case, readable characters left as they are (an address greps as itself).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Name(TransactionOutcome outcome) => outcome.ToString().ToLowerInvariant();

    public static TrackedTransaction From(TransactionRecord r, string gateway) => new()
    {
        Id = Clean(r.Id),
        SessionId = Clean(r.SessionId),
        Gateway = Clean(gateway),
        Time = r.Started,
        DurationMs = Math.Round(r.Duration.TotalMilliseconds, 1),
        ClientAddress = Clean(r.ClientAddress),
        ClientName = CleanOrNull(r.ClientName),
        Helo = CleanOrNull(r.Helo),
        Tls = Clean(r.Tls),
        Sender = CleanOrNull(r.Sender),
        Recipients = [.. r.Recipients.Select(x => new TrackedRecipient(Clean(x.Address), x.Accepted, Clean(x.Reply.ToString()), Name(x.Outcome), CleanOrNull(x.RefusedBy)))],
        MessageId = CleanOrNull(r.MessageId),
        Subject = CleanOrNull(r.Subject),
        Size = r.Size,
        Outcome = Name(r.Outcome),
        DecidedBy = Clean(r.DecidedBy),
        Score = r.Score,
        Symbols = SymbolsOf(r.Symbols),
        Reply = Clean(r.Reply.ToString()),
        Upstream = Clean(r.Upstream),
        Auth = Clean(r.Auth),
        RuleSet = Clean(r.RuleSet),
        QuarantineId = CleanOrNull(r.QuarantineId),
        Evidence = [.. r.Trace.Select(t => new TrackedEvidence(t.Phase.ToString().ToLowerInvariant(), Clean(t.Filter), t.Verdict.Kind.ToString().ToLowerInvariant(),
            Clean(t.Verdict.Source), t.Verdict.Reply is { } reply ? Clean(reply.ToString()) : null, SymbolsOf(t.Verdict.Symbols), Math.Round(t.Elapsed.TotalMilliseconds, 2)))],
    };

    private static List<TrackedSymbol> SymbolsOf(IReadOnlyList<Symbol> symbols) =>
        [.. symbols.Select(s => new TrackedSymbol(Clean(s.Name), s.Score, CleanOrNull(s.Detail)))];

    private static string? CleanOrNull(string? text) => text is null ? null : Clean(text);

    /// <summary>
    /// PostgreSQL's text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8: both can come from a sender,
    /// and either would make the whole batch fail. They are stored as U+FFFD; values are cut at 4,000 characters.
    /// </summary>
    public static string Clean(string text)
    {
        if (text.Length > 4000)
            text = text[..4000];
        var clean = true;
        for (var i = 0; i < text.Length && clean; i++)
            clean = text[i] != '\0' && !char.IsSurrogate(text[i]) || char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[++i]);
        if (clean)
            return text;
        var b = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                b.Append(c).Append(text[++i]);
                continue;
            }
            b.Append(c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c);
        }
        return b.ToString();
    }
}
