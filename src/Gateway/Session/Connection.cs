using System.Net;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Session;

/// <summary>
/// One client connection, whatever carries it (a socket, a file for <c>gateway explain</c>): the client, TLS, HELO,
/// what the connect and HELO filters said, the lookups shared by every transaction, and the current
/// <see cref="Transaction"/>. Only the engine and the transport change it; filters read it through <see cref="View"/>.
/// </summary>
public sealed class Connection
{
    private readonly object _lookupGate = new();
    private Task<Dns.ReverseDnsResult>? _reverseDns;
    private Dictionary<object, object>? _once;

    /// <param name="time">The server's clock (tests: a fake one); null: the system's.</param>
    public Connection(string id, GatewayConfig config, IPEndPoint remote, IPEndPoint local, FilterPipeline? pipeline = null, TimeProvider? time = null)
    {
        Id = id;
        Time = time ?? TimeProvider.System;
        Started = Time.GetUtcNow();
        Config = config;
        Remote = remote;
        Local = local;
        Pipeline = pipeline ?? FilterPipeline.Empty;
        View = new SessionState(this);
    }

    public string Id { get; }

    /// <summary>The configuration this connection started with; a reload never changes it mid-session.</summary>
    public GatewayConfig Config { get; }

    public FilterPipeline Pipeline { get; }

    /// <summary>Where this connection's accepted mail goes (the upstream of the configuration it started with).</summary>
    public Forwarding.IUpstream? Upstream { get; set; }

    public Dns.IDnsResolver Dns { get; set; } = Gateway.Dns.NoDns.Instance;

    /// <summary>Rate-limit and greylisting state; null offline (explain, rule tests).</summary>
    public State.IStateStore? State { get; set; }

    /// <summary>What filters see: read-only members over this connection and its current transaction.</summary>
    public SessionState View { get; }

    /// <summary>The client: the TCP peer, or the address a trusted PROXY header gave.</summary>
    public IPEndPoint Remote { get; set; }

    public IPEndPoint Local { get; set; }

    /// <summary>The clock of this connection and its transactions: time limits, Received, the records' times.</summary>
    public TimeProvider Time { get; }

    public DateTimeOffset Started { get; }

    public string? Helo { get; set; }

    /// <summary>True after EHLO (rather than HELO).</summary>
    public bool Extended { get; set; }

    public SslProtocols TlsProtocol { get; set; }

    public string? TlsCipher { get; set; }

    public bool IsSecure => TlsProtocol != SslProtocols.None;

    /// <summary>The SASL login the MTA in front authenticated (milter mode, {auth_authen}); null: none.</summary>
    public string? AuthenticatedUser { get; set; }

    /// <summary>What bare CR, bare LF and NUL in this client's message data get (policy.bare_line_endings, per network).</summary>
    public BareLineEndings BareLineEndings => RelayPolicy.IsRelayClient(Remote.Address, Config.Relay)
        ? Config.Policy.RelayNetworksBareLineEndings
        : Config.Policy.BareLineEndings;

    /// <summary>What the connect filters said (early talking included); every transaction starts from it.</summary>
    public Evaluation ConnectEvaluation { get; } = new();

    public Evaluation HeloEvaluation { get; set; } = new();

    /// <summary>A connect or HELO rejection waiting for RCPT (pipeline.delay_reject), so that the log has the envelope.</summary>
    public Verdict? PendingRejection { get; set; }

    /// <summary>A discard or quarantine decided at connect or HELO: every transaction of the connection starts with it.</summary>
    public Verdict? PendingAction { get; set; }

    /// <summary>Set by <c>gateway explain</c> to collect every rule evaluation; null in live sessions.</summary>
    public List<RuleTrace>? RuleTrace { get; init; }

    /// <summary>Who decided the last envelope refusal (a filter, a rule, relay control), for the log and explain.</summary>
    public string? LastRefusalBy { get; set; }

    public int ErrorCount { get; set; }

    public int CommandCount { get; set; }

    public int TransactionCount { get; set; }

    /// <summary>Set once the connect phase has run.</summary>
    public bool ConnectPhaseDone { get; set; }

    /// <summary>The open transaction (after an accepted MAIL), or null.</summary>
    public Transaction? Transaction { get; private set; }

    public bool InTransaction => Transaction is not null;

    /// <summary>Opens a transaction for <paramref name="sender"/>; any open one is dropped first.</summary>
    public Transaction BeginTransaction(SmtpPath sender, IReadOnlyDictionary<string, string?> parameters)
    {
        ResetTransaction();
        TransactionCount++;
        Transaction = new Transaction($"{Id}.{TransactionCount}", sender, parameters, Evaluation.Merge(ConnectEvaluation, HeloEvaluation), View, Time.GetUtcNow())
        {
            PendingAction = PendingAction,
        };
        return Transaction;
    }

    /// <summary>Drops the open transaction (RSET, HELO, STARTTLS, its end) and its message.</summary>
    public void ResetTransaction()
    {
        Transaction?.Dispose();
        Transaction = null;
    }

    /// <summary>The client's forward-confirmed reverse DNS name, looked up once per connection on first use.</summary>
    public Task<Dns.ReverseDnsResult> ReverseDnsAsync(CancellationToken cancellationToken)
    {
        lock (_lookupGate)
            return _reverseDns ??= Gateway.Dns.ReverseDnsResult.LookupAsync(Dns, Remote.Address, cancellationToken);
    }

    /// <summary>
    /// The client's forward-confirmed name as the MTA in front found it (milter mode: Postfix's client_name is
    /// verified), so that the gateway does not look it up again.
    /// </summary>
    public void KnownReverseDns(string name)
    {
        lock (_lookupGate)
            _reverseDns ??= Task.FromResult(new Dns.ReverseDnsResult(name, false, [$"client name {name} (verified by the MTA)"]) { PtrNames = [name] });
    }

    /// <summary>The reverse DNS result if it has been looked up.</summary>
    public Dns.ReverseDnsResult? ReverseDns => _reverseDns is { IsCompletedSuccessfully: true } done ? done.Result : null;

    /// <summary>A value made once per connection for <paramref name="key"/> (a filter and what it asks about).</summary>
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
}
