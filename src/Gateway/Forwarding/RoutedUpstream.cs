using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Forwarding;

/// <summary>
/// The upstream of one configuration: the default route (the <c>upstream</c> section) and each of
/// <c>upstream.routes</c>, each with its own upstream (an SMTP pool, or a directory). The session engine keeps every
/// transaction within one route (<see cref="RouteTable.SeparateTransaction"/>), so a message always goes to one of them.
/// On reload (<see cref="Next"/>) a route whose settings did not change keeps its pool and its idle connections.
/// </summary>
public sealed class RoutedUpstream : IUpstream
{
    private readonly RouteTable _table;
    private readonly Dictionary<string, Entry> _routes;
    private readonly string _localDomain;
    private readonly ILogger _logger;
    private readonly TimeProvider? _time;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <param name="Owned">False once handed to the next configuration's upstream (which disposes it then).</param>
    private sealed record Entry(string Description, IUpstream Upstream)
    {
        public bool Owned { get; set; } = true;
    }

    public RoutedUpstream(GatewayConfig config, ILogger logger, TimeProvider? time = null)
        : this(config.Upstream, config.Server.Hostname, logger, time, null)
    {
    }

    private RoutedUpstream(UpstreamConfig config, string localDomain, ILogger logger, TimeProvider? time, RoutedUpstream? previous)
    {
        _table = config.Routes;
        _localDomain = localDomain;
        _logger = logger;
        _time = time;
        _routes = new Dictionary<string, Entry>(StringComparer.Ordinal)
        {
            [RouteTable.DefaultName] = Take(RouteTable.DefaultName, config, previous),
        };
        foreach (var route in _table.Routes)
            _routes[route.Name] = Take(route.Name, route.Upstream, previous);
    }

    /// <summary>The upstream of a route's settings: the previous configuration's when they are the same, else a new one.</summary>
    private Entry Take(string name, UpstreamConfig config, RoutedUpstream? previous)
    {
        var description = RouteTable.Describe(config);
        if (previous is not null)
        {
            lock (previous._gate)
            {
                if (!previous._disposed && previous._routes.TryGetValue(name, out var old) && old.Owned && old.Description == description)
                {
                    old.Owned = false;
                    return new Entry(description, old.Upstream);
                }
            }
        }
        return new Entry(description, config.Directory is { } directory
            ? new DirectoryUpstream(directory, _time)
            : new SmtpUpstream(config, _localDomain, _logger, _time));
    }

    /// <summary>Whether a route relays per recipient (SMTP); false when every route is a directory.</summary>
    public bool Realtime => _routes.Values.Any(e => e.Upstream is IRealtimeUpstream);

    /// <summary>The routes of this configuration, by domain.</summary>
    public RouteTable Table => _table;

    /// <summary>The upstream of a route (<see cref="RouteTable.DefaultName"/> for the default route).</summary>
    public IUpstream Route(string name) => _routes.TryGetValue(name, out var entry) ? entry.Upstream : _routes[RouteTable.DefaultName].Upstream;

    /// <summary>The upstream <paramref name="recipient"/>'s mail goes to.</summary>
    public IUpstream For(SmtpPath recipient) => Route(_table.NameFor(recipient));

    /// <summary>
    /// Delivers to the route of the envelope's recipients. The session engine never lets a transaction span two
    /// routes; an envelope that does (a quarantined message released after the routes changed) is refused rather
    /// than split, which could deliver it to one route and not the other.
    /// </summary>
    public Task<UpstreamResult> DeliverAsync(Envelope envelope, string header, Stream message, CancellationToken cancellationToken)
    {
        var names = envelope.Recipients.Select(_table.NameFor).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count > 1)
        {
            return Task.FromResult(new UpstreamResult(new Reply(554, "5.5.3", "Recipients of more than one route in one message"),
                $"recipients of routes {string.Join(", ", names)}: each route needs its own transaction"));
        }
        return Route(names.Count == 0 ? RouteTable.DefaultName : names[0]).DeliverAsync(envelope, header, message, cancellationToken);
    }

    /// <summary>
    /// The upstream of the next configuration: routes whose settings are unchanged move to it with their pools (this
    /// one no longer owns them). Disposing this one afterwards, once the last session that started with its
    /// configuration has ended, closes only the pools of the routes that changed.
    /// </summary>
    public RoutedUpstream Next(GatewayConfig next) => new(next.Upstream, next.Server.Hostname, _logger, _time, this);

    public async ValueTask DisposeAsync()
    {
        List<IUpstream> owned;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            owned = [.. _routes.Values.Where(e => e.Owned).Select(e => e.Upstream)];
        }
        foreach (var upstream in owned)
            await upstream.DisposeAsync().ConfigureAwait(false);
    }
}
