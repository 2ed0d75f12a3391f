using Gateway.Pipeline;
using Gateway.Tracking;

namespace Gateway.Tests.Tracking;

/// <summary>Transaction records as the gateway makes them, for tests of the stores.</summary>
public static class TestRecords
{
    public static TransactionRecord Make(string id, DateTimeOffset time, TransactionOutcome outcome, string sender = "alice@sender.test",
        string[]? to = null, string subject = "Quarterly report", string? messageId = null, string by = "upstream", string? quarantineId = null)
    {
        var reply = outcome switch
        {
            TransactionOutcome.Delivered => new Reply(250, "2.0.0", "Ok: queued as X"),
            TransactionOutcome.Rejected => new Reply(554, "5.7.1", "Rejected by policy (rule:no-lottery)"),
            TransactionOutcome.Tempfailed => new Reply(451, "4.4.1", "Upstream server unavailable, try again later"),
            _ => new Reply(250, "2.0.0", "Ok: held for review"),
        };
        var recipients = (to ?? ["bob@example.test"]).Select(a => new RecipientOutcome(a, true, reply, outcome)).ToList();
        var symbols = new List<Symbol> { new("SUBJECT_MATCH", 2.5, "subject contains \"lottery\" <evil@x>") };
        return new TransactionRecord
        {
            Id = id,
            SessionId = id.Split('.')[0],
            Started = time,
            Duration = TimeSpan.FromMilliseconds(12.5),
            ClientAddress = "192.0.2.7",
            ClientName = "mail.sender.test",
            Helo = "mail.sender.test",
            Tls = "none",
            Sender = sender,
            Recipients = recipients,
            MessageId = messageId ?? $"<{id}@sender.test>",
            Subject = subject,
            Size = 1234,
            Outcome = outcome,
            DecidedBy = by,
            Score = 2.5,
            Symbols = symbols,
            Reply = reply,
            Upstream = "127.0.0.1:25 accepted",
            Auth = "spf=pass dkim=none dmarc=none",
            RuleSet = "abc123",
            QuarantineId = quarantineId,
            Trace = [new TraceEntry(Phase.Data, "rules", new Verdict(VerdictKind.Continue, "rule:lottery-words", Symbols: symbols), TimeSpan.FromMilliseconds(0.4))],
        };
    }
}
