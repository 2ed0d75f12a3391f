using System.Net;
using System.Security.Authentication;
using Gateway.Configuration;
using Gateway.Forwarding;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Storage;
using ServiceProvider = SmtpServer.ComponentModel.ServiceProvider;

namespace Gateway.Smtp;

/// <summary>
/// The gateway's SMTP front end: SmtpServer with the gateway's listener, pipe, command factory, envelope policy
/// and message store plugged in, and a graceful drain on stop.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly GatewayConfig _config;
    private readonly GatewaySnapshot _snapshot;
    private readonly ILogger _logger;
    private readonly IUpstream _upstream;
    private readonly ServerLifetime _lifetime = new();
    private readonly ConnectionLimiter _limiter = new();
    private readonly GatewayListenerFactory _listeners;
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _running;

    public GatewayServer(GatewayConfig config, ILoggerFactory loggerFactory, IUpstream? upstream = null)
    {
        _config = config;
        _logger = loggerFactory.CreateLogger("gateway");
        _upstream = upstream ?? CreateUpstream(config, loggerFactory.CreateLogger("upstream"));
        _snapshot = GatewaySnapshot.Build(config, loggerFactory.CreateLogger("pipeline"));
        _listeners = new GatewayListenerFactory(() => _snapshot, _limiter, _lifetime, _logger);

        var certificates = config.Server.Tls is { } tls ? new CertificateFactory(tls) : null;
        var builder = new SmtpServerOptionsBuilder()
            .ServerName(config.Server.Hostname)
            .MaxMessageSize((int)config.Limits.MaxMessageSize) // advertised and checked by the gateway itself
            .MaxRetryCount(int.MaxValue) // the gateway counts errors itself (limits.max_errors)
            .CommandWaitTimeout(config.Limits.CommandTimeout) // the idle timeout between commands (421 4.4.2)
            .CustomSmtpGreeting(_ => $"220 {config.Server.Hostname} ESMTP");
        foreach (var endpoint in config.Server.Listen)
        {
            builder.Endpoint(e =>
            {
                e.Endpoint(endpoint)
                    .SessionTimeout(config.Limits.SessionTimeout)
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
                if (certificates is not null)
                    e.Certificate(certificates);
            });
        }

        var services = new ServiceProvider();
        services.Add(_listeners);
        services.Add(new GatewayCommandFactory());
        services.Add((IMailboxFilter)new EnvelopePolicy());
        services.Add((IMessageStore)new GatewayMessageStore(_upstream, _lifetime, _logger));
        _server = new SmtpServer.SmtpServer(builder.Build(), services);
        _server.SessionFaulted += (_, e) => _logger.LogWarning(e.Exception, "session faulted: {Error}", e.Exception.Message);
    }

    public static IUpstream CreateUpstream(GatewayConfig config, ILogger logger) =>
        config.Upstream.Directory is { } directory
            ? new DirectoryUpstream(directory)
            : new SmtpUpstream(config.Upstream, config.Server.Hostname, logger);

    /// <summary>The endpoints listened on, with the ports the OS chose for port 0.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _listeners.Bound;

    /// <summary>Open client connections.</summary>
    public int Connections => _limiter.Total;

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => _running ?? Task.CompletedTask;

    /// <summary>Binds every endpoint (throwing if one cannot be bound) and starts accepting.</summary>
    public async Task StartAsync()
    {
        var bound = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = _config.Server.Listen.Count;
        var count = 0;
        _listeners.Listening += _ =>
        {
            if (Interlocked.Increment(ref count) == expected)
                bound.TrySetResult();
        };
        _running = _server.StartAsync(_shutdown.Token);
        var first = await Task.WhenAny(bound.Task, _running).ConfigureAwait(false);
        if (first == _running)
            await _running.ConfigureAwait(false); // a listener failed to bind: surface the exception
    }

    /// <summary>
    /// Stops accepting, closes idle sessions with 421 4.3.2, lets transactions in progress finish for up to
    /// <paramref name="drainTimeout"/> (default <c>server.drain_timeout</c>), then closes the rest with 421 4.3.2.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        var timeout = drainTimeout ?? _config.Server.DrainTimeout;
        _logger.LogInformation("draining: {Connections} connection(s) open, waiting up to {Timeout}", _limiter.Total, timeout);
        _lifetime.BeginDrain();
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
        _server.Shutdown();
        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_running is not null)
        {
            try
            {
                await _running.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
            }
        }
        _logger.LogInformation("stopped");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_lifetime.IsStopping)
            await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        await _upstream.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
        _shutdown.Dispose();
    }
}
