using System.Runtime.InteropServices;
using System.Text;
using Gateway.Configuration;
using Gateway.Smtp;
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
        // Legacy charsets (ISO-2022-JP, windows-125x, KOI8-R...) in MIME need the code pages provider.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

        using var loggerFactory = CreateLoggerFactory(config.Logging);
        var logger = loggerFactory.CreateLogger("gateway");
        await using var server = new GatewayServer(config, loggerFactory);
        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            logger.LogCritical("cannot listen: {Error}", e.Message);
            return 1;
        }
        logger.LogInformation("gateway {Version} started as {Hostname}; upstream {Upstream}", typeof(RunCommand).Assembly.GetName().Version,
            config.Server.Hostname, config.Upstream.Directory ?? string.Join(", ", config.Upstream.Hosts));

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        using var registration = cancellationToken.Register(() => stop.TrySetResult());
        await Task.WhenAny(stop.Task, server.Completion).ConfigureAwait(false);
        await server.StopAsync().ConfigureAwait(false);
        return 0;
    }

    public static ILoggerFactory CreateLoggerFactory(LoggingConfig config) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(config.Level);
        builder.AddFilter("MailKit", LogLevel.Warning);
        if (config.Format == LogFormat.Json)
            builder.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.IncludeScopes = false;
            });
        else
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
    });
}
