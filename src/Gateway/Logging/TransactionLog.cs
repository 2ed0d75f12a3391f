using System.Collections;
using System.Text;
using Gateway.Tracking;
using Microsoft.Extensions.Logging;

namespace Gateway.Logging;

/// <summary>
/// One line per transaction, with the fields an administrator searches by. In the text format the decision comes
/// first (outcome, by, reply), then the client's and sender's values, each quoted and escaped (<see cref="LogText"/>);
/// the JSON format writes the same record as structured fields (<see cref="JsonLogFormatter"/>).
/// </summary>
public static partial class TransactionLog
{
    public static readonly EventId TransactionEvent = new(100, "transaction");

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "session end id={SessionId} client={Client} helo={Helo} transactions={Transactions} errors={Errors} last_reply={LastReply} duration_ms={DurationMs}")]
    private static partial void SessionEnd(ILogger logger, string sessionId, string client, string helo, int transactions, int errors, string lastReply, long durationMs);

    public static void Write(ILogger logger, TransactionRecord record)
    {
        if (logger.IsEnabled(LogLevel.Information))
            logger.Log(LogLevel.Information, TransactionEvent, new TransactionLogEntry(record), null, static (entry, _) => entry.ToString());
    }

    public static string OutcomeName(TransactionOutcome outcome) => Admin.GatewayMetrics.OutcomeLabel(outcome);

    public static void WriteSessionEnd(ILogger logger, SessionState session, string? lastReply) =>
        SessionEnd(logger, session.Id, session.Remote.Address.ToString(), LogText.Quote(session.Helo, LogText.MaxValue), session.TransactionCount, session.ErrorCount,
            LogText.Quote(lastReply), (long)(session.Time.GetUtcNow() - session.Started).TotalMilliseconds);
}

/// <summary>
/// The state of the transaction log line: the record itself (for the JSON format), its text line, and its fields as
/// name/value pairs for any other logging provider.
/// </summary>
public sealed class TransactionLogEntry(TransactionRecord record) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private string? _text;

    public TransactionRecord Record { get; } = record;

    public override string ToString() => _text ??= Format(Record);

    /// <summary>
    /// transaction id=… outcome=rejected by=rule:x reply="…" client=… helo="…" from="<…>" to="<…>" refused="…"
    /// message_id="…" subject="…" size=… score=… symbols="…" rules=… upstream="…" auth="…" dns=… duration_ms=…
    /// </summary>
    public static string Format(TransactionRecord r)
    {
        var sb = new StringBuilder(512);
        sb.Append("transaction id=");
        LogText.AppendToken(sb, r.Id);
        sb.Append(" outcome=").Append(TransactionLog.OutcomeName(r.Outcome));
        sb.Append(" by=");
        LogText.AppendToken(sb, r.DecidedBy);
        sb.Append(" reply=");
        LogText.AppendQuoted(sb, r.Reply.ToString());
        if (r.QueueId is not null)
        {
            sb.Append(" queue_id=");
            LogText.AppendToken(sb, r.QueueId);
        }
        sb.Append(" client=").Append(r.ClientAddress);
        if (r.ClientName is not null)
        {
            sb.Append(" client_name=");
            LogText.AppendQuoted(sb, r.ClientName, LogText.MaxValue);
        }
        sb.Append(" helo=");
        LogText.AppendQuoted(sb, r.Helo, LogText.MaxValue);
        sb.Append(" tls=").Append(r.Tls);
        sb.Append(" from=");
        LogText.AppendQuoted(sb, r.Sender is null ? "" : $"<{r.Sender}>");
        sb.Append(" to=");
        LogText.AppendQuoted(sb, string.Join(",", r.Recipients.Where(x => x.Accepted).Select(x => $"<{x.Address}>")));
        sb.Append(" refused=");
        var refused = string.Join("; ", r.Recipients.Where(x => !x.Accepted).Select(x => $"<{x.Address}> {x.Reply.Code} {x.Reply.Enhanced} by {x.RefusedBy}"));
        LogText.AppendQuoted(sb, r.RefusedNotListed > 0 ? $"{refused}; and {r.RefusedNotListed} more" : refused);
        if (r.MessageId is not null)
        {
            sb.Append(" message_id=");
            LogText.AppendQuoted(sb, r.MessageId, LogText.MaxValue);
        }
        if (r.Subject is not null)
        {
            sb.Append(" subject=");
            LogText.AppendQuoted(sb, r.Subject, LogText.MaxValue);
        }
        sb.Append(" size=").Append(r.Size);
        sb.Append(" score=").Append(LogText.Number(r.Score));
        sb.Append(" symbols=");
        LogText.AppendQuoted(sb, string.Join(", ", r.Symbols), 2000);
        sb.Append(" rules=").Append(r.RuleSet);
        if (r.Route is not null)
            sb.Append(" route=").Append(r.Route);
        sb.Append(" upstream=");
        LogText.AppendQuoted(sb, r.Upstream);
        sb.Append(" auth=");
        LogText.AppendQuoted(sb, r.Auth, ours: true);
        sb.Append(" dns=").Append(r.DnsQueries);
        sb.Append(" duration_ms=").Append((long)r.Duration.TotalMilliseconds);
        return sb.ToString();
    }

    private KeyValuePair<string, object?>[] Fields => _fields ??=
    [
        new("id", Record.Id),
        new("outcome", TransactionLog.OutcomeName(Record.Outcome)),
        new("by", Record.DecidedBy),
        new("reply", Record.Reply.ToString()),
        new("client", Record.ClientAddress),
        new("helo", Record.Helo),
        new("from", Record.Sender),
        new("message_id", Record.MessageId),
        new("subject", Record.Subject),
        new("size", Record.Size),
        new("score", Record.Score),
        new("rules", Record.RuleSet),
    ];

    private KeyValuePair<string, object?>[]? _fields;

    public int Count => Fields.Length;

    public KeyValuePair<string, object?> this[int index] => Fields[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)Fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
