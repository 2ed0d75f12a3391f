using Gateway.Runtime;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin;

/// <summary>The admin listener could not be started; the message names the endpoint.</summary>
public sealed class AdminListenException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The admin listener: a minimal ASP.NET Core application on Kestrel (no MVC, no static files), serving each
/// <see cref="IAdminEndpoints"/> group. Started after the SMTP listeners and stopped with the gateway.
/// </summary>
public sealed class AdminHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminHost(WebApplication app) => _app = app;

    /// <summary>The endpoints listened on, with the ports the OS chose for port 0.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = [];

    /// <summary>Binds <paramref name="config"/>'s endpoints (throwing <see cref="AdminListenException"/>) and serves the standard endpoints.</summary>
    public static async Task<AdminHost> StartAsync(AdminConfig config, GatewayServer server, ILoggerFactory loggerFactory, params IAdminEndpoints[] extra)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        var certificate = config.Tls is { } tls ? WebConsole.ConsoleHosting.LoadCertificate(tls) : null;
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            foreach (var endpoint in config.Listen)
            {
                if (certificate is null)
                    o.Listen(endpoint);
                else
                    o.Listen(endpoint, l => l.UseHttps(certificate));
            }
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        WebConsole.ConsoleEndpoints? console = null;
        if (config.ConsoleEnabled)
        {
            console = new WebConsole.ConsoleEndpoints(() => server.CurrentConfig, config, new WebConsole.LoginThrottle(config.Lockout, TimeProvider.System, () => server.StateStore, loggerFactory.CreateLogger("console")),
                loggerFactory.CreateLogger("console"), TimeProvider.System);
            WebConsole.ConsoleHosting.AddServices(builder.Services, config, console);
        }
        var app = builder.Build();
        if (console is not null)
            WebConsole.ConsoleHosting.UseMiddleware(app);
        else
            app.UseRouting();
        IAdminEndpoints[] groups = [new MetricsEndpoints(() => server.CurrentConfig), new HealthEndpoints(new GatewayHealth(server)), .. (console is null ? extra : [console, .. extra])];
        foreach (var group in groups)
            group.Map(app);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new AdminListenException(Describe(config, e), e);
        }
        var host = new AdminHost(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        host.Endpoints = [.. addresses.Select(a => new Uri(a)).Select(u => new IPEndPoint(IPAddress.Parse(u.Host.Trim('[', ']')), u.Port))];
        return host;
    }

    /// <summary>"cannot listen on 127.0.0.1:8025 (admin): address already in use".</summary>
    private static string Describe(AdminConfig config, Exception e)
    {
        var socket = e as System.Net.Sockets.SocketException ?? e.InnerException as System.Net.Sockets.SocketException;
        var failed = config.Listen.Where(ep => e.Message.Contains(ep.ToString(), StringComparison.Ordinal)).ToList();
        var where = string.Join(", ", failed.Count > 0 ? failed : config.Listen);
        var why = socket is not null ? SocketErrors.Describe(socket)
            : e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "address already in use"
            : e.Message;
        return $"cannot listen on {where} (admin): {why}";
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
