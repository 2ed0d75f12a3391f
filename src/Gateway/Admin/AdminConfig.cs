using System.Net;

namespace Gateway.Admin;

/// <summary>
/// gateway.yaml's <c>admin</c> section: where the admin listener (metrics, health, web console) listens. Absent: no
/// listener. The web console is on only when <see cref="Users"/> has someone.
/// </summary>
public sealed record AdminConfig(IReadOnlyList<IPEndPoint> Listen)
{
    public static readonly IPEndPoint DefaultEndpoint = new(IPAddress.Loopback, 8025);

    /// <summary>Who may log in to the web console (admin.users); empty: the console is off.</summary>
    public IReadOnlyList<WebConsole.ConsoleUser> Users { get; init; } = [];

    /// <summary>HTTPS for the whole listener (admin.tls); null: plain HTTP.</summary>
    public Configuration.TlsConfig? Tls { get; init; }

    /// <summary>When failed logins lock a user name or a client address out.</summary>
    public WebConsole.LockoutPolicy Lockout { get; init; } = WebConsole.LockoutPolicy.Default;

    /// <summary>
    /// Where the web console keeps the keys of its session cookies and antiforgery tokens (admin.keys); null: in
    /// memory only, so that a restart logs everyone out and each gateway of a fleet has its own.
    /// </summary>
    public string? KeysDirectory { get; init; }

    public bool ConsoleEnabled => Users.Count > 0;
}
