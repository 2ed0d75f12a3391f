using Gateway.Configuration;

namespace Gateway.Forwarding;

/// <summary>
/// One entry of <c>upstream.routes</c>: the recipient domains it takes and where their mail goes (its own hosts or
/// directory, TLS policy, timeouts and connection pool).
/// </summary>
/// <param name="Name">The route's name in the log and <c>explain</c>: its <c>name</c>, else its first domain.</param>
/// <param name="Domains">ASCII (IDNA) lower-case domains; <c>.example.com</c> stands for every subdomain of example.com.</param>
/// <param name="Position">file:line:column of the route in gateway.yaml, for messages.</param>
public sealed record UpstreamRoute(string Name, IReadOnlyList<string> Domains, UpstreamConfig Upstream, string Position = "")
{
    /// <summary>What the route's pool is built from: a route whose description is unchanged keeps its pool on reload.</summary>
    public string Description => RouteTable.Describe(Upstream);
}

/// <summary>
/// Which route a recipient's domain takes (Postfix's transport_maps): an exact domain first, then the nearest parent
/// written with a leading dot (<c>.example.com</c> matches a.example.com and b.a.example.com, not example.com itself,
/// as in transport_maps); any other domain takes the default route, the <c>upstream</c> section itself. Domains are
/// compared in their ASCII (IDNA) lower-case form, as <c>relay.domains</c> are.
/// </summary>
public sealed class RouteTable
{
    /// <summary>The name of the route every domain without a route of its own takes.</summary>
    public const string DefaultName = "default";

    public static readonly RouteTable Empty = new([]);

    private readonly Dictionary<string, UpstreamRoute> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UpstreamRoute> _subdomains = new(StringComparer.Ordinal);

    /// <param name="routes">Validated routes: no domain in two of them (the configuration loader refuses that).</param>
    public RouteTable(IReadOnlyList<UpstreamRoute> routes)
    {
        Routes = routes;
        foreach (var route in routes)
        {
            foreach (var domain in route.Domains)
            {
                if (domain.StartsWith('.'))
                    _subdomains.TryAdd(domain[1..], route);
                else
                    _exact.TryAdd(domain, route);
            }
        }
    }

    public IReadOnlyList<UpstreamRoute> Routes { get; }

    public bool IsEmpty => Routes.Count == 0;

    /// <summary>The route of <paramref name="asciiDomain"/> (lower case, IDNA), or null for the default route.</summary>
    public UpstreamRoute? Find(string? asciiDomain)
    {
        if (IsEmpty || string.IsNullOrEmpty(asciiDomain))
            return null;
        if (_exact.TryGetValue(asciiDomain, out var route))
            return route;
        if (_subdomains.Count == 0)
            return null;
        // The nearest parent first: a.b.example.com tries b.example.com, then example.com, then com.
        var parents = _subdomains.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var dot = asciiDomain.IndexOf('.'); dot >= 0; dot = asciiDomain.IndexOf('.', dot + 1))
        {
            if (parents.TryGetValue(asciiDomain.AsSpan(dot + 1), out route))
                return route;
        }
        return null;
    }

    /// <summary>The name of the route <paramref name="recipient"/> takes (<see cref="DefaultName"/> for the default route).</summary>
    public string NameFor(SmtpPath recipient) => IsEmpty ? DefaultName : Find(recipient.AsciiDomain)?.Name ?? DefaultName;

    /// <summary>
    /// The reply to a recipient of another route than the transaction's: RFC 5321 3.3 lets a server refuse a
    /// recipient with 452 and the client sends it again in its next transaction (as for too many recipients), so
    /// no message is ever split across two upstreams, half delivered.
    /// </summary>
    public static Reply SeparateTransaction(SmtpPath recipient) =>
        new(452, "4.5.3", $"Recipients of {SmtpPath.Printable(recipient.Domain)} must be sent in a separate transaction");

    /// <summary>The settings a pool is built from (hosts or directory, TLS, timeouts, pool size).</summary>
    public static string Describe(UpstreamConfig u) =>
        $"{string.Join(",", u.Hosts)}|{u.Directory}|{u.Tls}|{u.VerifyCertificate}|{u.Timeout}|{u.PoolSize}|{u.IdleTimeout}";
}
