using System.Net;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Session;

/// <summary>
/// What a filter sees of the session (<see cref="FilterContext.Session"/>): the <see cref="Session.Connection"/> and its
/// current <see cref="Session.Transaction"/> through one read-only surface, with the members filters have always read.
/// The setters are internal: the engine changes the connection itself; unit tests use them to build a session.
/// </summary>
public sealed class SessionState
{
    private static readonly IReadOnlyDictionary<string, string?> NoParameters = new Dictionary<string, string?>();
    private Authentication.AuthenticationState? _idleAuthentication;

    internal SessionState(Connection connection) => Connection = connection;

    /// <summary>A session over a new connection, for offline runs and unit tests.</summary>
    public SessionState(string id, GatewayConfig config, IPEndPoint remote, IPEndPoint local, FilterPipeline? pipeline = null)
        : this(new Connection(id, config, remote, local, pipeline))
    {
    }

    /// <summary>The connection itself: for the engine and transports, not for filters.</summary>
    internal Connection Connection { get; }

    internal Transaction? Transaction => Connection.Transaction;

    /// <summary>The transaction's message parsed once (<see cref="Session.Transaction.ParsedMessage"/>); throws before DATA.</summary>
    public MimeKit.MimeMessage ParsedMessage() =>
        (Transaction ?? throw new InvalidOperationException("no transaction")).ParsedMessage();

    public string Id => Connection.Id;

    public GatewayConfig Config => Connection.Config;

    public FilterPipeline Pipeline => Connection.Pipeline;

    public Forwarding.IUpstream? Upstream
    {
        get => Connection.Upstream;
        internal init => Connection.Upstream = value;
    }

    public Dns.IDnsResolver Dns
    {
        get => Connection.Dns;
        init => Connection.Dns = value;
    }

    public State.IStateStore? State
    {
        get => Connection.State;
        init => Connection.State = value;
    }

    public IPEndPoint Remote => Connection.Remote;

    public IPEndPoint Local => Connection.Local;

    public DateTimeOffset Started => Connection.Started;

    /// <summary>The server's clock (<see cref="Connection.Time"/>).</summary>
    public TimeProvider Time => Connection.Time;

    public string? Helo
    {
        get => Connection.Helo;
        internal set => Connection.Helo = value;
    }

    public bool Extended => Connection.Extended;

    public SslProtocols TlsProtocol => Connection.TlsProtocol;

    public string? TlsCipher => Connection.TlsCipher;

    public Evaluation ConnectEvaluation => Connection.ConnectEvaluation;

    public Evaluation HeloEvaluation => Connection.HeloEvaluation;

    /// <summary>What the filters said about the current transaction, connect and HELO included (empty outside one).</summary>
    public Evaluation Evaluation => Transaction?.Evaluation ?? (field ??= new Evaluation());

    public List<RuleTrace>? RuleTrace => Connection.RuleTrace;

    public SmtpPath? Sender => Transaction?.Sender;

    public IReadOnlyDictionary<string, string?> MailParameters => Transaction?.Parameters ?? NoParameters;

    /// <summary>The accepted recipients of the current transaction.</summary>
    public List<SmtpPath> Recipients => Transaction?.Recipients ?? [];

    public IReadOnlyList<RefusedRecipient> RefusedRecipients => Transaction?.RefusedRecipients ?? [];

    public bool InTransaction => Connection.InTransaction;

    public string TransactionId => Transaction?.Id ?? $"{Id}.{Connection.TransactionCount}";

    public int TransactionCount => Connection.TransactionCount;

    public int ErrorCount => Connection.ErrorCount;

    /// <summary>The message of the current transaction (data phase).</summary>
    public MessageSpool? Message
    {
        get => Transaction?.Message;
        internal set => (Transaction ?? throw new InvalidOperationException("no transaction")).Message = value;
    }

    /// <summary>SPF, DKIM, DMARC and ARC of the current transaction, each run on first demand.</summary>
    public Authentication.AuthenticationState Authentication => Transaction?.Authentication ?? (_idleAuthentication ??= new(this));

    public Task<Dns.ReverseDnsResult> ReverseDnsAsync(CancellationToken cancellationToken) => Connection.ReverseDnsAsync(cancellationToken);

    public Dns.ReverseDnsResult? ReverseDns => Connection.ReverseDns;

    public T Once<T>(object key, Func<T> create) where T : class => Connection.Once(key, create);

    /// <summary>Opens a transaction (unit tests; sessions open theirs through the engine).</summary>
    internal Transaction BeginTransaction(SmtpPath sender, IReadOnlyDictionary<string, string?> parameters) => Connection.BeginTransaction(sender, parameters);
}
