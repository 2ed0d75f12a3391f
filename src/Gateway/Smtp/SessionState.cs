using System.Net;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Smtp;

/// <summary>
/// What the gateway knows about one SMTP session. SmtpServer creates its filters and stores per command,
/// so this object lives in the session's property bag and is the single place where they meet.
/// </summary>
public sealed class SessionState(string id, GatewayConfig config, IPEndPoint remote, IPEndPoint local, FilterPipeline? pipeline = null)
{
    public const string PropertyKey = "Gateway:Session";

    public string Id { get; } = id;

    /// <summary>The configuration this session started with; a reload never changes it mid-session.</summary>
    public GatewayConfig Config { get; } = config;

    /// <summary>The filters built from <see cref="Config"/>.</summary>
    public FilterPipeline Pipeline { get; } = pipeline ?? FilterPipeline.Empty;

    /// <summary>Where this session's accepted mail goes (the upstream of the configuration it started with).</summary>
    public Forwarding.IUpstream? Upstream { get; init; }

    /// <summary>The DNS of the configuration this session started with.</summary>
    public Gateway.Dns.IDnsResolver Dns { get; init; } = Gateway.Dns.NoDns.Instance;

    /// <summary>
    /// The rate-limit and greylisting state of the configuration this session started with; null offline
    /// (<c>gateway explain</c>, rule tests), where those filters neither read nor change it.
    /// </summary>
    public Gateway.State.IStateStore? State { get; init; }

    /// <summary>What the connect and HELO filters said; every transaction starts from it.</summary>
    public Evaluation ConnectEvaluation { get; } = new();

    public Evaluation HeloEvaluation { get; set; } = new();

    /// <summary>What the filters said about the current transaction, connect and HELO included.</summary>
    public Evaluation Evaluation { get; private set; } = new();

    /// <summary>A connect or HELO rejection waiting for RCPT (pipeline.delay_reject), so that the log has the envelope.</summary>
    public Verdict? PendingRejection { get; set; }

    /// <summary>Set by <c>gateway explain</c> to collect every rule evaluation; null in live sessions.</summary>
    public List<RuleTrace>? RuleTrace { get; init; }

    /// <summary>Who decided the last envelope refusal (a filter or rule), for the log.</summary>
    public string? LastRefusalBy { get; set; }

    /// <summary>A discard or quarantine decided before DATA, applied at the end of DATA.</summary>
    public Verdict? PendingAction { get; set; }

    /// <summary>Set when the reply being sent is the session's last.</summary>
    public bool CloseAfterReply { get; set; }

    /// <summary>The client: the TCP peer, or the address a trusted PROXY header gave.</summary>
    public IPEndPoint Remote { get; set; } = remote;

    public IPEndPoint Local { get; set; } = local;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public string? Helo { get; set; }

    /// <summary>True after EHLO (rather than HELO).</summary>
    public bool Extended { get; set; }

    public SslProtocols TlsProtocol { get; set; }

    public string? TlsCipher { get; set; }

    public int ErrorCount { get; set; }

    /// <summary>A reply that replaces the greeting and ends the session: an early talker, or a refusal at connect.</summary>
    public Reply? GreetingRefusal { get; set; }

    /// <summary>Set once the connect phase has run (before the greeting, or at the first command after a PROXY header).</summary>
    public bool ConnectPhaseDone { get; set; }

    /// <summary>The verb of the command SmtpServer is executing, for choosing enhanced status codes.</summary>
    public string? LastCommand { get; set; }

    public ServerLifetime? Lifetime { get; init; }

    public int CommandCount { get; set; }

    /// <summary>The path of the MAIL or RCPT line being processed, as the gateway parsed it.</summary>
    public SmtpPath? PendingPath { get; set; }

    public IReadOnlyDictionary<string, string?> PendingParameters { get; set; } = new Dictionary<string, string?>();

    public SmtpPath? Sender { get; private set; }

    public IReadOnlyDictionary<string, string?> MailParameters { get; private set; } = new Dictionary<string, string?>();

    public List<SmtpPath> Recipients { get; } = [];

    /// <summary>Recipients refused in this transaction, with the reply each got and who decided, for the log.</summary>
    public List<RefusedRecipient> RefusedRecipients { get; } = [];

    public bool InTransaction => Sender is not null;

    public int TransactionCount { get; set; }

    public DateTimeOffset TransactionStarted { get; private set; }

    /// <summary>The message body read by the guarded reader, waiting for the message store.</summary>
    public MessageSpool? Message { get; set; }

    /// <summary>Set when the data itself already decides the reply (too big, bare line endings).</summary>
    public Reply? MessageOutcome { get; set; }

    /// <summary>The transaction relayed upstream recipient by recipient (upstream.recipients: realtime), once one was accepted.</summary>
    public Forwarding.UpstreamTransaction? UpstreamTransaction { get; set; }

    private readonly object _lookupGate = new();
    private Task<Gateway.Dns.ReverseDnsResult>? _reverseDns;
    private Gateway.Authentication.AuthenticationState? _authentication;

    /// <summary>The client's forward-confirmed reverse DNS name, looked up once per session on first use.</summary>
    public Task<Gateway.Dns.ReverseDnsResult> ReverseDnsAsync(CancellationToken cancellationToken)
    {
        lock (_lookupGate)
            return _reverseDns ??= Gateway.Dns.ReverseDnsResult.LookupAsync(Dns, Remote.Address, cancellationToken);
    }

    private Dictionary<object, object>? _once;

    /// <summary>
    /// A value made once per session for <paramref name="key"/> (a filter and what it asks about): lookups started at
    /// connect and awaited by whichever phase decides.
    /// </summary>
    public T Once<T>(object key, Func<T> create) where T : class
    {
        lock (_lookupGate)
        {
            _once ??= [];
            if (!_once.TryGetValue(key, out var value))
                _once[key] = value = create();
            return (T)value;
        }
    }

    /// <summary>The reverse DNS result if it has been looked up.</summary>
    public Gateway.Dns.ReverseDnsResult? ReverseDns => _reverseDns is { IsCompletedSuccessfully: true } done ? done.Result : null;

    /// <summary>SPF, DKIM, DMARC and ARC of the current transaction, each run on first demand.</summary>
    public Gateway.Authentication.AuthenticationState Authentication => _authentication ??= new(this);

    public void BeginTransaction(SmtpPath sender, IReadOnlyDictionary<string, string?> parameters)
    {
        ResetTransaction();
        _authentication = new Gateway.Authentication.AuthenticationState(this);
        Sender = sender;
        MailParameters = parameters;
        Evaluation = Evaluation.Merge(ConnectEvaluation, HeloEvaluation);
        TransactionStarted = DateTimeOffset.UtcNow;
    }

    public void ResetTransaction()
    {
        Sender = null;
        MailParameters = new Dictionary<string, string?>();
        Recipients.Clear();
        RefusedRecipients.Clear();
        Message?.Dispose();
        Message = null;
        MessageOutcome = null;
        PendingAction = null;
        UpstreamTransaction?.Abandon(); // RSET upstream unless it was sent: nothing is delivered
        UpstreamTransaction = null;
    }

    public string TransactionId => $"{Id}.{TransactionCount}";
}

/// <summary>A recipient refused at RCPT: the reply it got and the filter, rule or policy that decided.</summary>
public sealed record RefusedRecipient(SmtpPath Path, Reply Reply, string By)
{
    public override string ToString() => $"{Path} {Reply.Code} {Reply.Enhanced} by {By}";
}
