using System.Net;
using Microsoft.Extensions.Logging;

namespace Gateway.Configuration;

/// <summary>The whole validated configuration: built once by <see cref="ConfigLoader"/>, never changed afterwards.</summary>
public sealed record GatewayConfig(
    ServerConfig Server,
    LimitsConfig Limits,
    RelayConfig Relay,
    UpstreamConfig Upstream,
    PipelineConfig Pipeline,
    RulesConfig Rules,
    PolicyConfig Policy,
    LoggingConfig Logging)
{
    /// <summary>Where quarantined messages go, and what the client is told.</summary>
    public QuarantineConfig Quarantine { get; init; } = QuarantineConfig.None;

    /// <summary>How far messages and their archives are unpacked for content rules.</summary>
    public Mime.MimeLimits Mime { get; init; } = Gateway.Mime.MimeLimits.Default;

    /// <summary>Which DNS servers the checks ask, and how long they wait.</summary>
    public Dns.DnsConfig Dns { get; init; } = Gateway.Dns.DnsConfig.Default;

    /// <summary>How SPF, DKIM, DMARC and ARC are checked (what to do with the results is the filters' business).</summary>
    public AuthenticationConfig Authentication { get; init; } = AuthenticationConfig.Default;

    /// <summary>Where rate limits and greylisting keep their counters (memory or a shared Redis).</summary>
    public State.StateConfig State { get; init; } = Gateway.State.StateConfig.Default;

    /// <summary>DKIM signing of outbound mail and ARC sealing of inbound mail.</summary>
    public Signing.SigningConfig Signing { get; init; } = Gateway.Signing.SigningConfig.None;
    /// <summary>The admin listener (metrics, health); null: none.</summary>
    public Admin.AdminConfig? Admin { get; init; }
    /// <summary>The message tracking store; null when the section is absent (nothing is recorded).</summary>
    public Tracking.TrackingConfig? Tracking { get; init; }
    /// <summary>The milter listener (the pipeline for an MTA in front); null: none.</summary>
    public Transports.Milter.MilterConfig? Milter { get; init; }

    /// <summary>The rule and list files this configuration was read from (patterns for globbed rule files).</summary>
    public IReadOnlyList<string> Dependencies { get; init; } = [];
}

/// <summary>gateway.yaml's <c>authentication</c> section.</summary>
/// <param name="DkimMaxSignatures">DKIM signatures checked per message; those past it are reported as not checked.</param>
/// <param name="TrustedArcSealers">Domains (ARC-Seal d=) whose valid ARC chain may override a DMARC failure.</param>
/// <param name="PublicSuffixListPath">A newer Public Suffix List than the built-in copy; null: the built-in one.</param>
public sealed record AuthenticationConfig(int DkimMaxSignatures, IReadOnlyList<string> TrustedArcSealers, string? PublicSuffixListPath)
{
    /// <summary>The list DMARC finds organizational domains with: the file's, or the built-in copy.</summary>
    public Authentication.Dmarc.PublicSuffixList PublicSuffixList { get; init; } = Authentication.Dmarc.PublicSuffixList.Default;

    public static readonly AuthenticationConfig Default = new(10, [], null);
}

/// <summary>The rule files and the rules read from them; the rule engine runs last in each phase that has rules.</summary>
public sealed record RulesConfig(IReadOnlyList<string> Files, Rules.RuleSet Set, Pipeline.OnError OnError, TimeSpan Budget)
{
    public static readonly RulesConfig Empty = new([], Rules.RuleSet.Empty, Pipeline.OnError.Tempfail, TimeSpan.FromSeconds(10));
}

public sealed record ServerConfig(
    IReadOnlyList<IPEndPoint> Listen,
    string Hostname,
    TlsConfig? Tls,
    IReadOnlyList<IPNetwork> ProxyTrusted,
    TimeSpan DrainTimeout)
{
    /// <summary>How long the banner waits; a client that sends anything meanwhile is an early talker. Zero: no wait.</summary>
    public TimeSpan GreetingDelay { get; init; }

    /// <summary>What happens to an early talker: refused (554 5.5.0, closed) or only scored.</summary>
    public EarlyTalkerAction EarlyTalker { get; init; } = EarlyTalkerAction.Reject;

    /// <summary>The score of the EARLY_TALKER symbol when <see cref="EarlyTalker"/> is score.</summary>
    public double EarlyTalkerScore { get; init; } = 5;
}

public enum EarlyTalkerAction { Reject, Score }

/// <summary>Absolute paths of the PEM certificate chain and private key used for STARTTLS.</summary>
public sealed record TlsConfig(string CertificatePath, string KeyPath);

public sealed record LimitsConfig(
    long MaxMessageSize,
    int MaxRecipients,
    int MaxConnections,
    int MaxConnectionsPerIp,
    TimeSpan CommandTimeout,
    TimeSpan DataTimeout,
    TimeSpan SessionTimeout,
    int MaxErrors)
{
    /// <summary>
    /// limits.max_recipient_overshoot: 452 4.5.3 replies a transaction may draw (recipients past max_recipients, or
    /// of another route) before each further one counts as an error, as Postfix's smtpd_recipient_overshoot_limit.
    /// </summary>
    public int MaxRecipientOvershoot { get; init; } = 1000;
}

public sealed record RelayConfig(IReadOnlyList<string> Domains, IReadOnlyList<IPNetwork> Networks);

public enum UpstreamTls { None, Opportunistic, Required }

/// <summary>A host name or IP literal and a port.</summary>
public sealed record HostPort(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>Either <see cref="Hosts"/> (SMTP relay) or <see cref="Directory"/> (files), never both.</summary>
public sealed record UpstreamConfig(
    IReadOnlyList<HostPort> Hosts,
    string? Directory,
    UpstreamTls Tls,
    bool VerifyCertificate,
    TimeSpan Timeout,
    int PoolSize,
    TimeSpan IdleTimeout,
    UpstreamRecipients Recipients = UpstreamRecipients.Realtime)
{
    /// <summary>upstream.routes: recipient domains sent elsewhere; every other domain takes these settings.</summary>
    public Forwarding.RouteTable Routes { get; init; } = Forwarding.RouteTable.Empty;
}

/// <summary>
/// When recipients are relayed upstream: each as the client names it, its reply the upstream's (realtime), or all at
/// the end of DATA, where one refused recipient refuses the message (at_end_of_data).
/// </summary>
public enum UpstreamRecipients { Realtime, AtEndOfData }

public enum BareLineEndings { Reject, Normalize }

/// <summary>
/// Score thresholds, as Rspamd's actions: at <see cref="AddHeader"/> the score and symbol headers are added, at
/// <see cref="Reject"/> the message is refused. Null means never.
/// </summary>
public sealed record Thresholds(double? AddHeader, double? Reject, double? Quarantine = null, double? RewriteSubject = null);

/// <summary>The quarantine directory (null: no quarantine) and the reply a client gets for a quarantined message.</summary>
public sealed record QuarantineConfig(string? Directory, Reply Reply)
{
    public static readonly QuarantineConfig None = new(null, new Reply(250, "2.0.0", "Ok: held for review"));

    /// <summary>Where held messages are kept: files in <see cref="Directory"/>, or the tracking database (a fleet shares it).</summary>
    public Quarantine.QuarantineBackend Store { get; init; } = Quarantine.QuarantineBackend.Directory;

    /// <summary>Held messages older than this are deleted by the periodic sweep.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Whether quarantining is possible at all.</summary>
    public bool IsConfigured => Directory is not null || Store == Quarantine.QuarantineBackend.Database;
}

public sealed record PolicyConfig(BareLineEndings BareLineEndings, Thresholds Thresholds, string ScoreHeader, string SymbolsHeader)
{
    /// <summary>Put in front of the Subject from policy.thresholds.rewrite_subject on.</summary>
    public string SubjectPrefix { get; init; } = "[SPAM] ";

    /// <summary>
    /// policy.bare_line_endings_relay_networks: what bare CR/LF/NUL from a client in relay.networks gets (LAN scanners
    /// and printers send bare LF; Postfix 3.9 excludes $mynetworks the same way). <see cref="BareLineEndings"/> is for everyone else.
    /// </summary>
    public BareLineEndings RelayNetworksBareLineEndings { get; init; } = BareLineEndings.Normalize;
}

/// <summary>One filter as configured in a phase of the pipeline, already built.</summary>
public sealed record FilterDefinition(string Name, string Type, Pipeline.Phase Phase, Pipeline.OnError OnError, TimeSpan Budget, Pipeline.IFilter Filter);

/// <summary>The filters of each phase, in order, and whether connect/HELO rejections wait for RCPT.</summary>
public sealed record PipelineConfig(bool DelayReject, IReadOnlyDictionary<Pipeline.Phase, IReadOnlyList<FilterDefinition>> Phases)
{
    public static readonly PipelineConfig Empty = new(true, new Dictionary<Pipeline.Phase, IReadOnlyList<FilterDefinition>>());
}

public enum LogFormat { Text, Json }

public sealed record LoggingConfig(LogFormat Format, LogLevel Level);
