using Gateway.Smtp;
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

    public static void Write(ILogger logger, SessionState session, long size, Reply reply, string upstream, string decidedBy, string? kind = null)
    {
        var outcome = kind ?? (reply.Code == 0 ? "abandoned" : reply.IsPositive ? "delivered" : reply.IsTransient ? "tempfail" : "rejected");
        Transaction(logger, session.TransactionId, session.Remote.Address.ToString(), session.Helo ?? "", TlsText(session),
            session.Sender?.Address ?? "", string.Join(",", session.Recipients.Select(r => r.ToString())),
            string.Join(",", session.RefusedRecipients), size, Math.Round(session.Evaluation.Score, 2), session.Evaluation.SymbolText,
            decidedBy, session.Config.Rules.Set.Hash,
            outcome, reply.ToString(), upstream, AuthText(session), session.Authentication.Dns.Count,
            (long)(DateTimeOffset.UtcNow - session.TransactionStarted).TotalMilliseconds);
    }

    public static void WriteSessionEnd(ILogger logger, SessionState session, string? lastReply) =>
        SessionEnd(logger, session.Id, session.Remote.Address.ToString(), session.Helo ?? "", session.TransactionCount, session.ErrorCount,
            lastReply ?? "", (long)(DateTimeOffset.UtcNow - session.Started).TotalMilliseconds);

    /// <summary>"spf=pass dkim=pass dmarc=pass": the finished checks, as in the Authentication-Results header.</summary>
    private static string AuthText(SessionState session) =>
        string.Join(" ", Authentication.AuthenticationReport.Results(session.Authentication).Select(r => $"{r.Method}={r.Result}"));

    private static string TlsText(SessionState session) =>
        session.TlsProtocol == System.Security.Authentication.SslProtocols.None ? "none" : $"{session.TlsProtocol}:{session.TlsCipher}";
}
