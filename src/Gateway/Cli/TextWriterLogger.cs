using Microsoft.Extensions.Logging;

namespace Gateway.Cli;

/// <summary>
/// The log of a one-shot command (a release, a delete): one line per event on the command's error stream, where
/// a person running it sees it and a wrapper script can keep it.
/// </summary>
public sealed class TextWriterLogger(TextWriter writer, string category) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            writer.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {LevelName(logLevel)} {category}: {formatter(state, exception)}");
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "crit",
        _ => level.ToString().ToLowerInvariant(),
    };
}
