namespace Gateway.Tracking;

/// <summary>Builds the <see cref="TransactionRecord"/> of a connection's transaction when it ends.</summary>
public static class TransactionRecords
{
    /// <param name="reply">The reply at the end of DATA, or <see cref="Reply.Abandoned"/> when the client left before it.</param>
    /// <param name="kind">"quarantined" or "discarded" where the reply alone (a 250) does not tell.</param>
    public static TransactionRecord From(Connection connection, Transaction transaction, long size, Reply reply, string upstream, string decidedBy, string? kind = null,
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
        if (abandoned && transaction.Recipients.Count == 0 && transaction.RefusedRecipients.Count > 0)
        {
            last = transaction.RefusedRecipients[^1].Reply;
            outcome = OutcomeOf(last);
            decidedBy = transaction.RefusedRecipients[^1].By;
        }
        var recipients = new List<RecipientOutcome>(transaction.Recipients.Count + transaction.RefusedRecipients.Count);
        foreach (var refused in transaction.RefusedRecipients)
            recipients.Add(new RecipientOutcome(refused.Path.Address, false, refused.Reply, OutcomeOf(refused.Reply), refused.By));
        foreach (var accepted in transaction.Recipients)
            recipients.Add(new RecipientOutcome(accepted.Address, true, reply, outcome));
        var now = connection.Time.GetUtcNow();
        // The transaction's parse when a filter made one; else a scan of the header block (no parse for the log alone).
        var (messageId, subject) = transaction.ParsedIfAny is { } parsed ? HeaderScan.Find(parsed.Headers) : HeaderScan.Find(transaction.Message);
        return new TransactionRecord
        {
            Id = transaction.Id,
            SessionId = connection.Id,
            Started = transaction.Started,
            Duration = now - transaction.Started,
            ClientAddress = connection.Remote.Address.ToString(),
            ClientName = connection.ReverseDns?.Name,
            Helo = connection.Helo,
            Tls = connection.TlsProtocol == System.Security.Authentication.SslProtocols.None ? "none" : $"{connection.TlsProtocol}:{connection.TlsCipher}",
            Sender = transaction.Sender.Address,
            Recipients = recipients,
            RefusedNotListed = transaction.RefusedNotKept,
            Size = size,
            MessageId = messageId,
            Subject = subject,
            Outcome = outcome,
            DecidedBy = decidedBy,
            Score = Math.Round(transaction.Evaluation.Score, 2),
            Symbols = transaction.Evaluation.Symbols,
            Reply = last,
            Upstream = upstream,
            Route = connection.Config.Upstream.Routes.IsEmpty ? null : transaction.Route,
            Auth = string.Join(" ", Authentication.AuthenticationReport.Results(transaction.Authentication).Select(r => $"{r.Method}={r.Result}")),
            DnsQueries = transaction.Authentication.Dns.Count,
            RuleSet = connection.Config.Rules.Set.Hash,
            QuarantineId = quarantineId,
            QueueId = transaction.QueueId,
            Trace = transaction.Evaluation.Trace,
        };
    }

    public static TransactionOutcome OutcomeOf(Reply reply) =>
        reply.IsPositive ? TransactionOutcome.Delivered : reply.IsTransient ? TransactionOutcome.Tempfailed : TransactionOutcome.Rejected;
}
