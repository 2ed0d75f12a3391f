using Gateway.Smtp;

namespace Gateway.Tracking;

/// <summary>Builds the <see cref="TransactionRecord"/> of a session's current transaction when it ends.</summary>
public static class TransactionRecords
{
    /// <param name="reply">The reply at the end of DATA, or <see cref="Reply.Abandoned"/> when the client left before it.</param>
    /// <param name="kind">"quarantined" or "discarded" where the reply alone (a 250) does not tell.</param>
    public static TransactionRecord From(SessionState session, long size, Reply reply, string upstream, string decidedBy, string? kind = null,
        string? quarantineId = null)
    {
        var abandoned = reply.Code == 0;
        var outcome = kind switch
        {
            "quarantined" => TransactionOutcome.Quarantined,
            "discarded" => TransactionOutcome.Discarded,
            _ => abandoned ? TransactionOutcome.Abandoned : OutcomeOf(reply),
        };
        var last = reply;
        // Every recipient refused at RCPT and no DATA: the transaction was refused, with the last refusal's reply.
        if (abandoned && session.Recipients.Count == 0 && session.RefusedRecipients.Count > 0)
        {
            last = session.RefusedRecipients[^1].Reply;
            outcome = OutcomeOf(last);
            decidedBy = session.RefusedRecipients[^1].By;
        }
        var recipients = new List<RecipientOutcome>(session.Recipients.Count + session.RefusedRecipients.Count);
        foreach (var refused in session.RefusedRecipients)
            recipients.Add(new RecipientOutcome(refused.Path.Address, false, refused.Reply, OutcomeOf(refused.Reply), refused.By));
        foreach (var accepted in session.Recipients)
            recipients.Add(new RecipientOutcome(accepted.Address, true, reply, outcome));
        var now = DateTimeOffset.UtcNow;
        var (messageId, subject) = HeaderScan.Find(session.Message);
        return new TransactionRecord
        {
            Id = session.TransactionId,
            SessionId = session.Id,
            Started = session.TransactionStarted == default ? session.Started : session.TransactionStarted,
            Duration = now - (session.TransactionStarted == default ? session.Started : session.TransactionStarted),
            ClientAddress = session.Remote.Address.ToString(),
            ClientName = session.ReverseDns?.Name,
            Helo = session.Helo,
            Tls = session.TlsProtocol == System.Security.Authentication.SslProtocols.None ? "none" : $"{session.TlsProtocol}:{session.TlsCipher}",
            Sender = session.Sender?.Address,
            Recipients = recipients,
            Size = size,
            MessageId = messageId,
            Subject = subject,
            Outcome = outcome,
            DecidedBy = decidedBy,
            Score = Math.Round(session.Evaluation.Score, 2),
            Symbols = session.Evaluation.Symbols,
            Reply = last,
            Upstream = upstream,
            Auth = string.Join(" ", Authentication.AuthenticationReport.Results(session.Authentication).Select(r => $"{r.Method}={r.Result}")),
            DnsQueries = session.Authentication.Dns.Count,
            RuleSet = session.Config.Rules.Set.Hash,
            QuarantineId = quarantineId,
            Trace = session.Evaluation.Trace,
        };
    }

    public static TransactionOutcome OutcomeOf(Reply reply) =>
        reply.IsPositive ? TransactionOutcome.Delivered : reply.IsTransient ? TransactionOutcome.Tempfailed : TransactionOutcome.Rejected;
}
