using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Every limit of the SMTP front end in one place (as Kestrel's <c>KestrelServerLimits</c>): the fixed ones of the
/// protocol and the configured ones (<c>limits:</c> and <c>server:</c>), with the reply each one gives.
/// </summary>
public sealed record SmtpLimits
{
    /// <summary>RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included (500 5.5.2, the line skipped).</summary>
    public const int MaxCommandLine = 512;

    /// <summary>Past this many octets without a line end the connection is closed (500 5.5.2 ..., closing).</summary>
    public const int HardLineCap = 64 * 1024;

    /// <summary>The longest PROXY v2 header read (16 octets and its length field; v1 lines are at most 107 octets).</summary>
    public const int MaxProxyHeader = 16 + 536;

    /// <summary>At a closing reply: how long unread client bytes are drained so that the reply is not lost to a reset.</summary>
    public static readonly TimeSpan CloseLinger = TimeSpan.FromSeconds(2);

    /// <summary>limits.max_message_size: SIZE at MAIL, DATA and BDAT while reading (552 5.3.4).</summary>
    public long MaxMessageSize { get; init; }

    /// <summary>limits.max_recipients: recipients past it get 452 4.5.3, not counted as errors up to the overshoot.</summary>
    public int MaxRecipients { get; init; }

    /// <summary>limits.max_recipient_overshoot: 452 4.5.3 replies per transaction before each further one is an error.</summary>
    public int MaxRecipientOvershoot { get; init; }

    /// <summary>limits.max_connections, limits.max_connections_per_ip: 421 4.7.0 at accept (or after the PROXY header).</summary>
    public int MaxConnections { get; init; }

    public int MaxConnectionsPerAddress { get; init; }

    /// <summary>limits.command_timeout: idle time between commands, and the time a write may take (421 4.4.2).</summary>
    public TimeSpan CommandTimeout { get; init; }

    /// <summary>limits.data_timeout: idle time while reading message data (421 4.4.2).</summary>
    public TimeSpan DataTimeout { get; init; }

    /// <summary>limits.session_timeout: the whole session (421 4.4.2).</summary>
    public TimeSpan SessionTimeout { get; init; }

    /// <summary>limits.max_errors: error replies before 421 4.7.0.</summary>
    public int MaxErrors { get; init; }

    /// <summary>server.greeting_delay: the banner waits; a client talking first is an early talker.</summary>
    public TimeSpan GreetingDelay { get; init; }

    /// <summary>Past the size limit the rest of DATA is read and dropped (552 in order); past this, the client is cut off.</summary>
    public long DataHardCap => MaxMessageSize * 2 + 1024 * 1024;

    public static SmtpLimits From(GatewayConfig config) => new()
    {
        MaxMessageSize = config.Limits.MaxMessageSize,
        MaxRecipients = config.Limits.MaxRecipients,
        MaxRecipientOvershoot = config.Limits.MaxRecipientOvershoot,
        MaxConnections = config.Limits.MaxConnections,
        MaxConnectionsPerAddress = config.Limits.MaxConnectionsPerIp,
        CommandTimeout = config.Limits.CommandTimeout,
        DataTimeout = config.Limits.DataTimeout,
        SessionTimeout = config.Limits.SessionTimeout,
        MaxErrors = config.Limits.MaxErrors,
        GreetingDelay = config.Server.GreetingDelay,
    };
}
