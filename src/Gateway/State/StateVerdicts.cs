using Gateway.Pipeline;

namespace Gateway.State;

/// <summary>What a filter that needs the shared state says when it cannot have it.</summary>
public static class StateVerdicts
{
    /// <summary>The backend failed: on_backend_error allow goes on with a symbol, tempfail answers 451 4.3.0.</summary>
    public static Verdict Unavailable(string filter, OnBackendError action, StateUnavailableException e)
    {
        var symbol = new Symbol("STATE_UNAVAILABLE", 0, $"{filter}: {e.Message}");
        return action == OnBackendError.Allow
            ? new Verdict(VerdictKind.Continue, filter, Symbols: [symbol])
            : new Verdict(VerdictKind.Tempfail, filter, new Reply(451, "4.3.0", $"Shared state unavailable, try again later ({filter})"), [symbol]);
    }

    /// <summary>Offline (explain, rule tests) there is no shared state to read or change: the check is skipped, visibly.</summary>
    public static Verdict Offline(string filter) =>
        new(VerdictKind.Continue, filter, Symbols: [new Symbol("STATE_NOT_CHECKED", 0, $"{filter}: offline, no shared state")]);

    /// <summary>"37 seconds", rounded up, at least 1.</summary>
    public static string Seconds(TimeSpan span)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(span.TotalSeconds));
        return seconds == 1 ? "1 second" : $"{seconds} seconds";
    }

    /// <summary>A duration as gateway.yaml writes it: "1h", "90s", "250ms".</summary>
    public static string Duration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerSecond != 0 ? $"{(long)span.TotalMilliseconds}ms"
        : span.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)span.TotalDays}d"
        : span.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)span.TotalHours}h"
        : span.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)span.TotalMinutes}m"
        : $"{(long)span.TotalSeconds}s";
}
