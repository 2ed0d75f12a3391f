using System.Net;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Transports.Smtp;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime;

/// <summary>
/// The running gateway: the current configuration snapshot (reloaded on change), its upstream, DNS and state, and the
/// SMTP listeners (<see cref="SmtpListener"/>) with a graceful drain on stop.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly GatewayConfig _config;
    private readonly string? _configPath;
    private readonly ILogger _pipelineLogger;
    private readonly Lock _reloadLock = new();
    private GatewaySnapshot _snapshot;
    private ConfigWatcher? _watcher;
    private readonly Timer _reloadSoon;

    /// <summary>Files are reloaded once they have been quiet this long (editors write in several steps).</summary>
    private static readonly TimeSpan ReloadQuiet = TimeSpan.FromMilliseconds(300);
    private readonly ILogger _logger;
    private readonly ILogger _upstreamLogger;

    private readonly ServerLifetime _lifetime = new();
    private readonly Dns.IDnsResolver? _fixedDns;
    private Dns.IDnsResolver _dns;
    private readonly TimeProvider _time;
    private readonly ILogger _stateLogger;
    private readonly ConnectionLimiter _limiter = new();
    private readonly SmtpServerContext _smtp;
    private readonly List<SmtpListener> _listeners = [];
    private Transports.Milter.MilterServer? _milter;
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _running;

    /// <param name="configPath">The file the configuration came from: reloaded on change and by <see cref="Reload"/>.</param>
    /// <param name="dns">The DNS to use whatever the configuration says (tests); null: <c>dns</c> from the configuration.</param>
    /// <param name="time">The clock of rate limits and greylisting (tests); null: the system's.</param>
    public GatewayServer(GatewayConfig config, ILoggerFactory loggerFactory, IUpstream? upstream = null, string? configPath = null, Dns.IDnsResolver? dns = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _stateLogger = loggerFactory.CreateLogger("state");
        var state = State.StateStores.Create(config.State, _stateLogger, _time);
        _fixedDns = dns;
        _dns = dns ?? new Dns.DnsClientResolver(config.Dns);
        _config = config;
        _configPath = configPath;
        _pipelineLogger = loggerFactory.CreateLogger("pipeline");
        _reloadSoon = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        _logger = loggerFactory.CreateLogger("gateway");
        _upstreamLogger = loggerFactory.CreateLogger("upstream");
        upstream ??= CreateUpstream(config, _upstreamLogger, _time);
        _snapshot = GatewaySnapshot.Build(config, _pipelineLogger, upstream, _dns, state, new SharedResource(upstream), new SharedResource(state));
        Transactions.Add(new Logging.TransactionLogSink(loggerFactory.CreateLogger("gateway")));
        Transactions.Add(new Admin.MetricsSink());
        Admin.GatewayMetrics.ConfigLoaded(config.Rules.Set.Hash, reload: false);
        Tracking = new Tracking.TrackingService(loggerFactory, _time);
        Tracking.Apply(config);
        Transactions.Add(Tracking);
        var certificates = config.Server.Tls is { } tls ? new CertificateProvider(tls) : null;
        _smtp = new SmtpServerContext(() => Volatile.Read(ref _snapshot), _limiter, _lifetime, certificates, _logger, Transactions, _time);
    }

    public static IUpstream CreateUpstream(GatewayConfig config, ILogger logger, TimeProvider? time = null) => new RoutedUpstream(config, logger, time);

    /// <summary>
    /// Where every finished transaction goes: the log line first, then whatever else is added (metrics, tracking).
    /// </summary>
    public Tracking.TransactionSinks Transactions { get; } = new();

    /// <summary>Raised after a reload was taken, with the new configuration (logging applies it).</summary>
    public event Action<GatewayConfig>? Reloaded;

    /// <summary>Where rate limits and greylisting keep their counters now (health checks ask it).</summary>
    public State.IStateStore StateStore => Volatile.Read(ref _snapshot).State!;

    /// <summary>The snapshot new sessions start with.</summary>
    public GatewaySnapshot CurrentSnapshot => Volatile.Read(ref _snapshot);
    /// <summary>The tracking store's writer and the quarantine's expiry, following reloads.</summary>
    public Tracking.TrackingService Tracking { get; }

    /// <summary>The configuration new sessions start with.</summary>
    public GatewayConfig CurrentConfig => Volatile.Read(ref _snapshot).Config;

    /// <summary>
    /// Loads the configuration file again, away from any session. A valid one becomes the snapshot new sessions
    /// start with (sessions in progress keep theirs); an invalid one is refused and logged, and the current
    /// configuration keeps serving. Returns whether the new configuration was taken.
    /// </summary>
    public bool Reload()
    {
        if (_configPath is null)
            return false;
        lock (_reloadLock)
        {
            var result = ConfigLoader.LoadFile(_configPath);
            var current = Volatile.Read(ref _snapshot);
            if (!result.IsValid)
            {
                _logger.LogError("configuration reload refused, still serving rules={Rules}: {Errors}", current.Config.Rules.Set.Hash,
                    string.Join(" | ", result.Errors));
                Admin.GatewayMetrics.ConfigReloadFailed();
                return false;
            }
            // What did not change is shared with the new snapshot (an upstream pool, a state store with its counters,
            // a DNS cache); the rest is new. Sessions that started with the old snapshot keep it, and what only it
            // holds is disposed after the last of them ends (GatewaySnapshot.Released). With routes, a route whose
            // settings did not change moves to the new upstream with its pool; the old upstream keeps only the others.
            var (upstream, upstreamShare) = Describe(current.Config.Upstream) == Describe(result.Config!.Upstream)
                ? (current.Upstream!, current.UpstreamHold!.Share())
                : New(current.Upstream is RoutedUpstream routed ? routed.Next(result.Config!) : CreateUpstream(result.Config!, _upstreamLogger, _time));
            var (state, stateShare) = current.Config.State.Equals(result.Config!.State)
                ? (current.State!, current.StateHold!.Share())
                : New(State.StateStores.Create(result.Config!.State, _stateLogger, _time));
            if (_fixedDns is null && !current.Config.Dns.Equals(result.Config!.Dns))
                _dns = new Dns.DnsClientResolver(result.Config!.Dns); // nothing to dispose: the old cache goes with its snapshot
            var next = GatewaySnapshot.Build(result.Config!, _pipelineLogger, upstream, _dns, state, upstreamShare, stateShare);
            WatchFiles(next.Config);
            Volatile.Write(ref _snapshot, next);
            _ = current.RetireAsync().AsTask();
            Tracking.Apply(next.Config);
            _logger.LogInformation("configuration reloaded: rules={Rules} ({Count} rules)", next.Config.Rules.Set.Hash, next.Config.Rules.Set.Rules.Count);
            Admin.GatewayMetrics.ConfigLoaded(next.Config.Rules.Set.Hash, reload: true);
            Reloaded?.Invoke(next.Config);
            var restart = RestartOnly(_config, next.Config);
            if (restart.Count > 0)
                _logger.LogWarning("these changes take effect only after a restart: {Settings}", string.Join(", ", restart));
            return true;
        }
    }

    private static (T, SharedResource) New<T>(T resource) where T : IAsyncDisposable => (resource, new SharedResource(resource));

    /// <summary>
    /// Settings read once at start: the listening sockets and the STARTTLS certificate paths (the certificate files
    /// themselves are read again when they change). Everything else applies to sessions that start after the reload,
    /// and <c>server.drain_timeout</c> to the next stop.
    /// </summary>
    private static List<string> RestartOnly(GatewayConfig started, GatewayConfig next)
    {
        var changed = new List<string>();
        void Check(string name, object a, object b)
        {
            if (!Equals(a, b))
                changed.Add(name);
        }
        Check("server.listen", string.Join(",", started.Server.Listen), string.Join(",", next.Server.Listen));
        Check("server.tls", started.Server.Tls?.ToString() ?? "", next.Server.Tls?.ToString() ?? "");
        Check("milter.listen", string.Join(",", started.Milter?.Listen ?? []), string.Join(",", next.Milter?.Listen ?? []));
        Check("admin.listen", string.Join(",", started.Admin?.Listen ?? []), string.Join(",", next.Admin?.Listen ?? []));
        Check("admin.tls", started.Admin?.Tls?.ToString() ?? "", next.Admin?.Tls?.ToString() ?? "");
        Check("admin.lockout", started.Admin?.Lockout.ToString() ?? "", next.Admin?.Lockout.ToString() ?? "");
        Check("admin.keys", started.Admin?.KeysDirectory ?? "", next.Admin?.KeysDirectory ?? "");
        return changed;
    }

    /// <summary>The upstream and every route, so that a reload changing any of them gets a new (routed) upstream.</summary>
    private static string Describe(UpstreamConfig u) =>
        RouteTable.Describe(u) + string.Concat(u.Routes.Routes.Select(r => $";{r.Name}={string.Join(",", r.Domains)}:{RouteTable.Describe(r.Upstream)}"));

    /// <summary>
    /// Watches the files of <paramref name="config"/>; the new watcher starts before the old one stops, and both
    /// feed one debounce timer, so that no change falls between them.
    /// </summary>
    private void WatchFiles(GatewayConfig config)
    {
        if (_configPath is null || _lifetime.IsDraining || _watcher?.Covers(_configPath, config.Dependencies) == true)
            return;
        var old = _watcher;
        try
        {
            _watcher = new ConfigWatcher(_configPath, config.Dependencies, () => _reloadSoon.Change(ReloadQuiet, Timeout.InfiniteTimeSpan));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Out of inotify instances, say: the gateway still runs; SIGHUP still reloads.
            _logger.LogWarning("cannot watch the configuration files ({Error}); send SIGHUP to reload", e.Message);
            return;
        }
        old?.Dispose();
    }

    /// <summary>The endpoints listened on, with the ports the OS chose for port 0.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints
    {
        get { lock (_listeners) return [.. _listeners.Select(l => l.Endpoint)]; }
    }

    /// <summary>The milter endpoints listened on (<c>milter.listen</c>), with the ports the OS chose for port 0.</summary>
    public IReadOnlyList<Transports.Milter.MilterEndpoint> MilterEndpoints => _milter?.Endpoints ?? [];

    /// <summary>Open client connections.</summary>
    public int Connections => _limiter.Total;

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => _stopped.Task;

    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Binds every endpoint (throwing if one cannot be bound) and starts accepting.</summary>
    public Task StartAsync()
    {
        var loops = new List<Task>();
        lock (_listeners)
        {
            try
            {
                foreach (var endpoint in _config.Server.Listen)
                {
                    var listener = new SmtpListener(endpoint, _smtp);
                    _listeners.Add(listener);
                    _logger.LogInformation("listening on {Endpoint}", listener.Endpoint);
                }
            }
            catch
            {
                foreach (var listener in _listeners)
                    listener.Dispose();
                _listeners.Clear();
                throw;
            }
            foreach (var listener in _listeners)
                loops.Add(Task.Run(listener.AcceptLoopAsync));
            if (_config.Milter is { } milter)
            {
                _milter = new Transports.Milter.MilterServer(milter, () => Volatile.Read(ref _snapshot), _logger, Transactions, _time);
                try
                {
                    _milter.Start();
                }
                catch
                {
                    foreach (var listener in _listeners)
                        listener.Dispose();
                    _listeners.Clear();
                    throw;
                }
            }
        }
        _running = Task.WhenAll(loops);
        lock (_reloadLock)
            WatchFiles(_config);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops accepting, closes idle sessions with 421 4.3.2, lets transactions in progress finish for up to
    /// <paramref name="drainTimeout"/> (default <c>server.drain_timeout</c> of the current configuration, reloads included),
    /// then closes the rest with 421 4.3.2.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        var timeout = drainTimeout ?? CurrentConfig.Server.DrainTimeout;
        _logger.LogInformation("draining: {Connections} connection(s) open, waiting up to {Timeout}", _limiter.Total, timeout);
        _lifetime.BeginDrain();
        var milterStopped = _milter?.StopAsync(timeout) ?? Task.CompletedTask;
        lock (_reloadLock)
        {
            _watcher?.Dispose();
            _reloadSoon.Change(Timeout.Infinite, Timeout.Infinite);
        }
        using (var wait = new CancellationTokenSource(timeout))
        {
            try
            {
                await _limiter.WaitForIdleAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("drain timeout: closing {Connections} connection(s)", _limiter.Total);
            }
        }
        _lifetime.Stop();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _limiter.WaitForIdleAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        lock (_listeners)
        {
            foreach (var listener in _listeners)
                listener.Dispose();
        }
        await milterStopped.ConfigureAwait(false);
        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_running is not null)
        {
            try
            {
                await _running.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException) // a bind failure: StartAsync reported it
            {
            }
        }
        _logger.LogInformation("stopped");
        _stopped.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_lifetime.IsStopping)
            await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        await _reloadSoon.DisposeAsync().ConfigureAwait(false);
        GatewaySnapshot last;
        lock (_reloadLock)
            last = Volatile.Read(ref _snapshot);
        // Every session has ended (or was cut off): the current snapshot's upstream and state are disposed with it.
        await last.RetireAsync().ConfigureAwait(false);
        await Tracking.DisposeAsync().ConfigureAwait(false);
        if (_milter is not null)
            await _milter.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
        _shutdown.Dispose();
    }
}
