using Gateway.Pipeline;

namespace Gateway.Session;

/// <summary>
/// One mail transaction, from an accepted MAIL to the end of its message (or a reset): the envelope, the recipients
/// accepted and refused, the message, and what the filters said. Recipients are decided one at a time, so a relay
/// that asks the upstream per recipient (<see cref="IRecipientRelay"/>) fits between the filters and the reply.
/// </summary>
public sealed class Transaction : IDisposable
{
    internal Transaction(string id, SmtpPath sender, IReadOnlyDictionary<string, string?> parameters, Evaluation evaluation, SessionState view, DateTimeOffset started)
    {
        Id = id;
        Started = started;
        Sender = sender;
        Parameters = parameters;
        Evaluation = evaluation;
        Authentication = new Authentication.AuthenticationState(view);
    }

    public string Id { get; }

    public SmtpPath Sender { get; }

    /// <summary>The MAIL parameters (SIZE, BODY, SMTPUTF8), keys case-insensitive.</summary>
    public IReadOnlyDictionary<string, string?> Parameters { get; }

    public DateTimeOffset Started { get; }

    /// <summary>Accepted recipients, in order, without duplicates.</summary>
    public List<SmtpPath> Recipients { get; } = [];

    /// <summary>Recipients refused in this transaction, with the reply each got and who decided, for the log.</summary>
    public List<RefusedRecipient> RefusedRecipients { get; } = [];

    /// <summary>Connect and HELO included.</summary>
    public Evaluation Evaluation { get; }

    /// <summary>A discard or quarantine decided before the end of the message, applied there.</summary>
    public Verdict? PendingAction { get; set; }

    /// <summary>The message body, once the transport has read it.</summary>
    public MessageSpool? Message { get; set; }

    /// <summary>Set when the data itself already decides the reply (too big, bare line endings).</summary>
    public Reply? MessageOutcome { get; set; }

    /// <summary>SPF, DKIM, DMARC and ARC of this transaction, each run on first demand.</summary>
    public Authentication.AuthenticationState Authentication { get; }

    /// <summary>Whether the client asked for SMTPUTF8 at MAIL.</summary>
    public bool Utf8 => Parameters.ContainsKey("SMTPUTF8");

    public bool EightBit => Parameters.TryGetValue("BODY", out var body) && string.Equals(body, "8BITMIME", StringComparison.OrdinalIgnoreCase);

    public Envelope Envelope => new(Id, Sender, [.. Recipients], Utf8, EightBit);

    /// <summary>
    /// upstream.recipients: realtime: the transaction opened upstream at the first accepted recipient, to which each
    /// later recipient and the message go. Null in at_end_of_data mode and until a recipient passed the filters.
    /// </summary>
    public Forwarding.UpstreamTransaction? Upstream { get; set; }

    public void Dispose()
    {
        Upstream?.Abandon(); // RSET upstream unless the message was sent: nothing is delivered
        Upstream = null;
        Message?.Dispose();
        Message = null;
    }
}

/// <summary>A recipient refused at RCPT: the reply it got and the filter, rule or policy that decided.</summary>
public sealed record RefusedRecipient(SmtpPath Path, Reply Reply, string By)
{
    public override string ToString() => $"{Path} {Reply.Code} {Reply.Enhanced} by {By}";
}

/// <summary>
/// Where a per-recipient relay plugs into the engine: asked for each recipient the filters accepted (its reply is the
/// client's), told when the transaction ends without a message. Forwarding implements it; null sends the whole
/// message at the end of DATA.
/// </summary>
public interface IRecipientRelay
{
    /// <returns>null when the upstream accepted <paramref name="recipient"/>, else the reply for the client.</returns>
    ValueTask<Reply?> RecipientAsync(Transaction transaction, SmtpPath recipient, CancellationToken cancellationToken);

    /// <summary>The transaction ended without a message (RSET, a new MAIL, the client left).</summary>
    ValueTask ResetAsync(Transaction transaction);
}
