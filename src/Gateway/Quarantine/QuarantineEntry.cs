using Gateway.Forwarding;
using Gateway.Pipeline;
using MimeKit;

namespace Gateway.Quarantine;

/// <summary>Where held messages are kept.</summary>
public enum QuarantineBackend
{
    /// <summary>ID.eml and ID.json in quarantine.directory: one gateway.</summary>
    Directory,

    /// <summary>The tracking database (index and message bytes): a fleet on PostgreSQL shares one quarantine.</summary>
    Database,
}

/// <summary>
/// What is known about a quarantined message: the envelope exactly as the client gave it (addresses and every MAIL
/// and RCPT parameter, SMTPUTF8 included, so that a release presents it the same way), and why it was held.
/// </summary>
public sealed record QuarantineEntry(
    string Id,
    DateTimeOffset Time,
    string Client,
    string Helo,
    string MailFrom,
    IReadOnlyList<string> RcptTo,
    string DecidedBy,
    double Score,
    IReadOnlyList<string> Symbols,
    long Size)
{
    public string? Subject { get; init; }

    public string? MessageId { get; init; }

    /// <summary>Why it was held, in words: the deciding filter or rule and its evidence, or the score and its threshold.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The gateway (server.hostname) that held it.</summary>
    public string Gateway { get; init; } = "";

    /// <summary>When the sweep deletes it (quarantine.retention after <see cref="Time"/>).</summary>
    public DateTimeOffset Expires { get; init; }

    /// <summary>The MAIL FROM parameters as the client sent them (SMTPUTF8, BODY, SIZE...).</summary>
    public IReadOnlyDictionary<string, string?> MailParameters { get; init; } = new Dictionary<string, string?>();

    /// <summary>Each recipient's RCPT TO parameters, in <see cref="RcptTo"/>'s order (empty where none were given).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string?>> RcptParameters { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Utf8 => MailParameters.Keys.Any(k => k.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase));

    [System.Text.Json.Serialization.JsonIgnore]
    public bool EightBit => MailParameters.Any(p => p.Key.Equals("BODY", StringComparison.OrdinalIgnoreCase) && string.Equals(p.Value, "8BITMIME", StringComparison.OrdinalIgnoreCase));

    private static HeaderList Load(MessageSpool spool)
    {
        using var stream = spool.OpenRead();
        return HeaderList.Load(new ParserOptions { MaxMimeDepth = 8 }, stream);
    }

    /// <summary>The entry for the current transaction of <paramref name="session"/>, decided by <paramref name="by"/>.</summary>
    public static QuarantineEntry From(SessionState session, Envelope envelope, string by, long size, DateTimeOffset now)
    {
        string? subject = null, messageId = null;
        if (session.Message is { } spool)
        {
            try
            {
                var headers = session.InTransaction ? session.ParsedMessage().Headers : Load(spool); // the transaction's one parse
                subject = headers[HeaderId.Subject];
                messageId = headers[HeaderId.MessageId]?.Trim();
            }
            catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
            {
                // A header block MimeKit cannot read: the message is held all the same, without Subject in the index.
            }
        }
        var evaluation = session.Evaluation;
        var decisive = evaluation.Trace.LastOrDefault(t => t.Verdict.Kind == VerdictKind.Quarantine);
        var reason = decisive is not null
            ? $"{decisive.Verdict.Source}" + (decisive.Verdict.Symbols.Count > 0 ? ": " + string.Join(", ", decisive.Verdict.Symbols) : "")
            : $"score {Math.Round(evaluation.Score, 2)} reached policy.thresholds.quarantine {session.Config.Policy.Thresholds.Quarantine}";
        return new QuarantineEntry(envelope.TransactionId, now, session.Remote.Address.ToString(), session.Helo ?? "",
            envelope.Sender.Address, [.. envelope.Recipients.Select(r => r.Address)], by, Math.Round(evaluation.Score, 2),
            [.. evaluation.Symbols.Select(s => s.ToString())], size)
        {
            Subject = subject,
            MessageId = messageId,
            Reason = reason,
            Gateway = session.Config.Server.Hostname,
            Expires = now + session.Config.Quarantine.Retention,
            MailParameters = new Dictionary<string, string?>(session.MailParameters, StringComparer.OrdinalIgnoreCase),
            // RCPT parameters are refused at RCPT today (555): none can be kept yet; the field holds them once they are taken.
            RcptParameters = [.. envelope.Recipients.Select(_ => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>())],
        };
    }
}

/// <summary>A search of the quarantine: every given filter must match (anywhere in the value, ignoring case).</summary>
public sealed record QuarantineQuery
{
    public string? From { get; init; }
    public string? To { get; init; }
    public string? Subject { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? Since { get; init; }
    public int Limit { get; init; } = 500;

    public bool Matches(QuarantineEntry e) =>
        (From is null || e.MailFrom.Contains(From.Trim('<', '>'), StringComparison.OrdinalIgnoreCase)) &&
        (To is null || e.RcptTo.Any(r => r.Contains(To.Trim('<', '>'), StringComparison.OrdinalIgnoreCase))) &&
        (Subject is null || (e.Subject ?? "").Contains(Subject, StringComparison.OrdinalIgnoreCase)) &&
        (Reason is null || e.Reason.Contains(Reason, StringComparison.OrdinalIgnoreCase) || e.DecidedBy.Contains(Reason, StringComparison.OrdinalIgnoreCase)) &&
        (Since is null || e.Time >= Since);
}
