using Gateway.Pipeline;

namespace Gateway.Tracking;

/// <summary>What became of one transaction, in words a log reader or a helpdesk searches by.</summary>
public enum TransactionOutcome
{
    /// <summary>The upstream accepted the message (or it was stored durably in the delivery directory).</summary>
    Delivered,

    /// <summary>Refused with a 5xx: at the end of DATA, or every recipient refused at RCPT.</summary>
    Rejected,

    /// <summary>Answered 4xx, so that the sender retries.</summary>
    Tempfailed,

    /// <summary>Kept in the quarantine; the client got 250.</summary>
    Quarantined,

    /// <summary>Dropped on purpose; the client got 250.</summary>
    Discarded,

    /// <summary>The client left (or the session ended) before the end of DATA, with at least one recipient accepted.</summary>
    Abandoned,
}

/// <summary>
/// One recipient and the reply it ended with: its RCPT refusal (<paramref name="Accepted"/> false, with who refused
/// it), or the reply at the end of DATA.
/// </summary>
public sealed record RecipientOutcome(string Address, bool Accepted, Reply Reply, TransactionOutcome Outcome, string? RefusedBy = null);

/// <summary>
/// Everything known about one finished transaction, built once at its end and handed to every
/// <see cref="ITransactionSink"/>: the log line, the metrics and the tracking store read the same record.
/// Sender-controlled values (HELO, addresses, Subject, Message-ID, symbol details) are stored as received:
/// escaping is each sink's job.
/// </summary>
public sealed record TransactionRecord
{
    public required string Id { get; init; }

    public required string SessionId { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required TimeSpan Duration { get; init; }

    public required string ClientAddress { get; init; }

    /// <summary>The client's forward-confirmed reverse DNS name, when something looked it up.</summary>
    public string? ClientName { get; init; }

    public string? Helo { get; init; }

    /// <summary>"none", or "Tls13:TLS_AES_256_GCM_SHA384".</summary>
    public required string Tls { get; init; }

    /// <summary>The reverse path without brackets ("" for the null sender, null when MAIL never succeeded).</summary>
    public string? Sender { get; init; }

    /// <summary>Every recipient the client named in this transaction, accepted or refused (the first 1,000 refused), in order.</summary>
    public required IReadOnlyList<RecipientOutcome> Recipients { get; init; }

    /// <summary>Refused recipients past the 1,000 kept (<see cref="Session.Transaction.MaxRefusedKept"/>): counted only.</summary>
    public int RefusedNotListed { get; init; }

    public string? MessageId { get; init; }

    public string? Subject { get; init; }

    public long Size { get; init; }

    public required TransactionOutcome Outcome { get; init; }

    /// <summary>The filter or rule that decided ("rule:from-multiple", "dmarc", "upstream", "score", "client", "smtp").</summary>
    public required string DecidedBy { get; init; }

    public double Score { get; init; }

    public IReadOnlyList<Symbol> Symbols { get; init; } = [];

    /// <summary>The last reply the client got for this transaction (the end of DATA, or the last RCPT refusal).</summary>
    public required Reply Reply { get; init; }

    /// <summary>What happened upstream, or why nothing was sent ("10.0.0.25:25 accepted", "not forwarded").</summary>
    public string Upstream { get; init; } = "";

    /// <summary>The upstream route (upstream.routes) of the accepted recipients; null when no routes are configured or none was accepted.</summary>
    public string? Route { get; init; }

    /// <summary>"spf=pass dkim=pass dmarc=pass".</summary>
    public string Auth { get; init; } = "";

    public int DnsQueries { get; init; }

    /// <summary>The hash of the rule set that judged it.</summary>
    public required string RuleSet { get; init; }

    /// <summary>The queue id of the MTA in front (milter mode); null over SMTP.</summary>
    public string? QueueId { get; init; }

    /// <summary>The quarantine id when <see cref="Outcome"/> is <see cref="TransactionOutcome.Quarantined"/>.</summary>
    public string? QuarantineId { get; init; }

    /// <summary>Each filter's verdict in order, with its symbols and their evidence: what explain would show.</summary>
    public IReadOnlyList<TraceEntry> Trace { get; init; } = [];
}
