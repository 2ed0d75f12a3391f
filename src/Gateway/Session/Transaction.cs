using System.Runtime.ExceptionServices;
using Gateway.Pipeline;
using MimeKit;

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
        _mime = view.Config.Mime;
    }

    private readonly Mime.MimeLimits _mime;
    private readonly Lock _parseGate = new();
    private MessageSpool? _message;
    private MimeMessage? _parsed;
    private Stream? _parsedStream;
    private ExceptionDispatchInfo? _parseError;

    /// <summary>
    /// The message parsed once for the whole transaction, on first use, under the configured MIME limits: rules
    /// (<see cref="Mime.MessageView"/>), DKIM, ARC and DMARC, the Bayes filter, the log and the quarantine index all
    /// read this one. Its parts are substreams of the spool (persistent), which stays open until the transaction
    /// ends. A message MimeKit cannot parse throws the same exception to every reader. Readers take turns: the
    /// parts share the spool's stream.
    /// </summary>
    public MimeMessage ParsedMessage()
    {
        lock (_parseGate)
        {
            _parseError?.Throw();
            if (_parsed is not null)
                return _parsed;
            var spool = _message ?? throw new InvalidOperationException("no message yet (the data phase has not begun)");
            var stream = spool.OpenRead();
            try
            {
                // MaxMimeDepth set explicitly (a stack overflow on deep nesting cannot be caught), one level over the
                // limit so that going over it is seen.
                _parsed = new MimeParser(new ParserOptions { MaxMimeDepth = _mime.MaxDepth + 1 }, stream, persistent: true).ParseMessage();
                _parsedStream = stream;
                return _parsed;
            }
            catch (Exception e)
            {
                stream.Dispose();
                _parseError = ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }
    }

    /// <summary>The shared parse if something has made it.</summary>
    public MimeMessage? ParsedIfAny => _parsed;

    private void DropParse()
    {
        lock (_parseGate)
        {
            _parsed = null;
            _parseError = null;
            _parsedStream?.Dispose();
            _parsedStream = null;
        }
    }

    public string Id { get; }

    public SmtpPath Sender { get; }

    /// <summary>The MAIL parameters (SIZE, BODY, SMTPUTF8), keys case-insensitive.</summary>
    public IReadOnlyDictionary<string, string?> Parameters { get; }

    public DateTimeOffset Started { get; }

    /// <summary>The queue id of the MTA in front (milter mode, the <c>i</c> macro), for the log line; null over SMTP.</summary>
    public string? QueueId { get; set; }

    /// <summary>Accepted recipients, in order, without duplicates.</summary>
    public List<SmtpPath> Recipients { get; } = [];

    /// <summary>
    /// Recipients refused in this transaction, with the reply each got and who decided, for the log and tracking: the
    /// first <see cref="MaxRefusedKept"/>; the rest are counted in <see cref="RefusedNotKept"/>.
    /// </summary>
    public IReadOnlyList<RefusedRecipient> RefusedRecipients => _refused;

    private readonly List<RefusedRecipient> _refused = [];

    /// <summary>Refused recipients kept per transaction: a peer sending RCPTs without end cannot grow memory or the log line.</summary>
    public const int MaxRefusedKept = 1000;

    /// <summary>Refused recipients past <see cref="MaxRefusedKept"/>.</summary>
    public int RefusedNotKept { get; private set; }

    /// <summary>452 4.5.3 replies drawn so far (limits.max_recipient_overshoot).</summary>
    public int Overshoot { get; set; }

    public void Refused(RefusedRecipient recipient)
    {
        if (_refused.Count < MaxRefusedKept)
            _refused.Add(recipient);
        else
            RefusedNotKept++;
    }

    /// <summary>Connect and HELO included.</summary>
    public Evaluation Evaluation { get; }

    /// <summary>A discard or quarantine decided before the end of the message, applied there.</summary>
    public Verdict? PendingAction { get; set; }

    /// <summary>The message body, once the transport has read it.</summary>
    public MessageSpool? Message
    {
        get => _message;
        set
        {
            DropParse();
            _message = value;
        }
    }

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

    /// <summary>
    /// The upstream route (upstream.routes) of the accepted recipients, set by the first one: a transaction never
    /// spans two routes. Null until a recipient is accepted.
    /// </summary>
    public string? Route { get; set; }

    public void Dispose()
    {
        Upstream?.Abandon(); // RSET upstream unless the message was sent: nothing is delivered
        Upstream = null;
        DropParse();
        _message?.Dispose();
        _message = null;
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
