using System.Threading.Channels;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Logging;

/// <summary>
/// The gateway's console logging: one line per event in the text or JSON format, at the configured level, both
/// switchable while running (<see cref="Apply"/>, called on reload). Lines are written to the output by one
/// background task, so a slow terminal or pipe does not hold a session; when 10,000 lines wait, the writer blocks
/// the logging thread instead of losing lines.
/// Written by hand over Microsoft.Extensions.Logging.Console: its formatter and level are fixed at creation unless
/// the whole options-monitor machinery is set up, and its JSON formatter escapes '&lt;' and '"' and adds
/// {OriginalFormat}.
/// </summary>
public sealed class GatewayLoggerProvider : ILoggerProvider
{
    private static readonly ILogFormatter Text = new TextLogFormatter();
    private static readonly ILogFormatter Json = new JsonLogFormatter();

    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { SingleReader = true });
    private readonly Task _writer;
    private volatile Settings _settings;

    private sealed record Settings(ILogFormatter Formatter, LogLevel Level);

    public GatewayLoggerProvider(LoggingConfig config, TextWriter? output = null, TimeProvider? time = null)
    {
        _output = output ?? Console.Out;
        _time = time ?? TimeProvider.System;
        _settings = For(config);
        _writer = Task.Run(WriteLinesAsync);
    }

    /// <summary>Takes a new format and level at once for every logger, including those already created.</summary>
    public void Apply(LoggingConfig config) => _settings = For(config);

    public LogLevel Level => _settings.Level;

    /// <summary>Applies each configuration <paramref name="server"/> takes on reload.</summary>
    public void Follow(Runtime.GatewayServer server) => server.Reloaded += next => Apply(next.Logging);

    private static Settings For(LoggingConfig config) => new(config.Format == LogFormat.Json ? Json : Text, config.Level);

    /// <summary>A factory logging through a new provider; MailKit's own chatter is kept to warnings.</summary>
    public static ILoggerFactory CreateFactory(GatewayLoggerProvider provider) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(LogLevel.Trace); // the provider decides, so that a reload can lower the level
        builder.AddFilter("MailKit", LogLevel.Warning);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        builder.AddProvider(provider);
    });

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    private void Write(string line)
    {
        if (!_lines.Writer.TryWrite(line))
            _lines.Writer.WriteAsync(line).AsTask().GetAwaiter().GetResult(); // full: wait rather than lose a line
    }

    private async Task WriteLinesAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
                _output.WriteLine(line);
            _output.Flush();
        }
    }

    /// <summary>Writes what is queued and stops.</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed class Logger(GatewayLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner._settings.Level;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var settings = owner._settings;
            if (logLevel == LogLevel.None || logLevel < settings.Level)
                return;
            owner.Write(settings.Formatter.Format(owner._time.GetUtcNow(), logLevel, category, eventId, state, exception, formatter));
        }
    }
}
