using System.Net;

namespace Gateway.Transports.Milter;

/// <summary>Where a quarantine verdict puts a message in milter mode.</summary>
public enum MilterQuarantine
{
    /// <summary>The gateway's own quarantine (searched, released and audited as in SMTP mode); the MTA is told to discard it.</summary>
    Gateway,

    /// <summary>The MTA's hold queue (SMFIR_QUARANTINE; Postfix: <c>postsuper -H</c> releases it).</summary>
    Mta,
}

/// <summary>One milter listening address: a TCP endpoint, or a Unix socket path (<c>unix:/run/gateway/milter.sock</c>).</summary>
public sealed record MilterEndpoint(IPEndPoint? Tcp, string? UnixPath)
{
    public override string ToString() => Tcp?.ToString() ?? $"unix:{UnixPath}";
}

/// <summary>
/// gateway.yaml's <c>milter</c> section: the pipeline offered to an MTA (Postfix, Sendmail) as a milter. Absent: no
/// milter listener.
/// </summary>
/// <param name="MaxConnections">MTA connections at once (Postfix opens one per SMTP session it filters).</param>
/// <param name="CommandTimeout">The longest wait for the MTA's next packet; Postfix waits for its client in between, up to smtpd_timeout (300s by default).</param>
/// <param name="SessionTimeout">The longest SMTP session one milter connection carries.</param>
public sealed record MilterConfig(IReadOnlyList<MilterEndpoint> Listen, MilterQuarantine Quarantine, int MaxConnections, TimeSpan CommandTimeout, TimeSpan SessionTimeout)
{
    public static readonly MilterEndpoint DefaultEndpoint = new(new IPEndPoint(IPAddress.Loopback, 11332), null);

    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromMinutes(10);
}
