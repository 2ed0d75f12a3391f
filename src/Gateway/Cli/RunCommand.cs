using System.Runtime.InteropServices;
using Gateway.Configuration;
using Gateway.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Gateway.Cli;

public static class RunCommand
{
    public static async Task<int> RunAsync(string configPath, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var result = ConfigLoader.LoadFile(configPath);
        if (!result.IsValid)
        {
            CheckCommand.PrintErrors(result, configPath, stderr, "; not starting");
            return 1;
        }
        var config = result.Config!;
        UseInlineSocketCompletions();

        using var logging = new Logging.GatewayLoggerProvider(config.Logging);
        using var loggerFactory = Logging.GatewayLoggerProvider.CreateFactory(logging);
        var logger = loggerFactory.CreateLogger("gateway");
        foreach (var warning in result.Warnings)
            logger.LogWarning("{Warning}", warning.ToString());
        await using var server = new GatewayServer(config, loggerFactory, configPath: configPath);
        logging.Follow(server);

        // Signals are handled from before the first connection can arrive.
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = Task.Run(() =>
            {
                SystemdNotify.Reloading();
                server.Reload();
                SystemdNotify.Ready();
            });
        });
        using var registration = cancellationToken.Register(() => stop.TrySetResult());

        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // The endpoint the listeners did not bind is the one that failed.
            var failed = config.Server.Listen.Where(ep => !server.Endpoints.Any(b => b.Address.Equals(ep.Address) && (ep.Port == 0 || b.Port == ep.Port))).ToList();
            stderr.WriteLine($"cannot listen on {string.Join(", ", failed.Count > 0 ? failed : config.Server.Listen)}: {Admin.SocketErrors.Describe(e)}");
            return 1;
        }
        Admin.AdminHost? admin = null;
        if (config.Admin is { } adminConfig)
        {
            try
            {
                admin = await Admin.AdminHost.StartAsync(adminConfig, server, loggerFactory).ConfigureAwait(false);
            }
            catch (Admin.AdminListenException e)
            {
                stderr.WriteLine(e.Message);
                return 1;
            }
        }
        await using var adminHost = admin;
        logger.LogInformation("gateway {Version} started as {Hostname}; upstream {Upstream}{Admin}", typeof(RunCommand).Assembly.GetName().Version,
            config.Server.Hostname, config.Upstream.Directory ?? string.Join(", ", config.Upstream.Hosts),
            admin is null ? "" : $"; admin http://{string.Join(", http://", admin.Endpoints)}");

        SystemdNotify.Ready();

        await Task.WhenAny(stop.Task, server.Completion).ConfigureAwait(false);
        SystemdNotify.Stopping();
        await server.StopAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Runs socket completions on the socket engine's thread instead of handing each one to a thread-pool worker:
    /// about 20% less CPU per message (measured with bench/run-benchmark), because an SMTP session is a chain of
    /// small reads and writes. The cost is that code after an await of a socket operation must not block; the
    /// gateway moves filter work to the thread pool (FilterPipeline) and does no blocking I/O on that path.
    /// Set DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 to turn it off. Must run before the first socket exists.
    /// </summary>
    private static void UseInlineSocketCompletions()
    {
        const string name = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(name) is null)
            Environment.SetEnvironmentVariable(name, "1");
    }
}
