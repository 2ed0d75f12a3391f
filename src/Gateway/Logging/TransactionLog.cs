using Gateway.Smtp;
using Gateway.Tracking;
using Microsoft.Extensions.Logging;

namespace Gateway.Logging;

/// <summary>
/// One line per transaction, with the fields an administrator searches by. The same fields appear as
/// properties in the JSON log format.
/// </summary>
public static partial class TransactionLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "transaction id={TransactionId} client={Client} helo={Helo} tls={Tls} from=<{Sender}> to={Recipients} refused={Refused} size={Size} score={Score} symbols=\"{Symbols}\" by={DecidedBy} rules={RuleSet} outcome={Outcome} reply=\"{Reply}\" upstream=\"{Upstream}\" auth=\"{Auth}\" dns={DnsQueries} duration_ms={DurationMs}")]
    private static partial void Transaction(ILogger logger, string transactionId, string client, string helo, string tls, string sender,
        string recipients, string refused, long size, double score, string symbols, string decidedBy, string ruleSet, string outcome, string reply, string upstream, string auth, int dnsQueries, long durationMs);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "session end id={SessionId} client={Client} helo={Helo} transactions={Transactions} errors={Errors} last_reply=\"{LastReply}\" duration_ms={DurationMs}")]
    private static partial void SessionEnd(ILogger logger, string sessionId, string client, string helo, int transactions, int errors, string lastReply, long durationMs);

    public static void Write(ILogger logger, TransactionRecord record) =>
        Transaction(logger, record.Id, record.ClientAddress, record.Helo ?? "", record.Tls, record.Sender ?? "",
            string.Join(",", record.Recipients.Where(r => r.Accepted).Select(r => $"<{r.Address}>")),
            string.Join(",", record.Recipients.Where(r => !r.Accepted).Select(r => $"<{r.Address}> {r.Reply.Code} {r.Reply.Enhanced} by {r.RefusedBy}")),
            record.Size, record.Score, string.Join(", ", record.Symbols), record.DecidedBy, record.RuleSet,
            OutcomeName(record.Outcome), record.Reply.ToString(), record.Upstream, record.Auth, record.DnsQueries, (long)record.Duration.TotalMilliseconds);

    public static string OutcomeName(TransactionOutcome outcome) => outcome switch
    {
        TransactionOutcome.Delivered => "delivered",
        TransactionOutcome.Rejected => "rejected",
        TransactionOutcome.Tempfailed => "tempfail",
        TransactionOutcome.Quarantined => "quarantined",
        TransactionOutcome.Discarded => "discarded",
        _ => "abandoned",
    };

    public static void WriteSessionEnd(ILogger logger, SessionState session, string? lastReply) =>
        SessionEnd(logger, session.Id, session.Remote.Address.ToString(), session.Helo ?? "", session.TransactionCount, session.ErrorCount,
            lastReply ?? "", (long)(DateTimeOffset.UtcNow - session.Started).TotalMilliseconds);
}
