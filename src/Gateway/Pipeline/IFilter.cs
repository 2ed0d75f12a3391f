namespace Gateway.Pipeline;

/// <summary>One check. A filter is built once per configuration and shared by all sessions: keep it stateless.</summary>
public interface IFilter
{
    /// <summary>The phases this filter can act on; the configuration may only list it under these.</summary>
    IReadOnlySet<Phase> Phases { get; }

    ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken);

    /// <summary>
    /// True for a filter that does little CPU work of its own (a lookup in memory, or awaiting DNS or Redis): a phase
    /// whose filters all say so runs on the socket's thread, without a hop to the thread pool.
    /// </summary>
    bool RunsInline => false;

    /// <summary>True when the configuration lets this filter quarantine (then quarantine.directory is required).</summary>
    bool MayQuarantine => false;
}

public enum OnError
{
    /// <summary>A filter that fails or runs out of time answers 451 4.3.0, so that the sender retries.</summary>
    Tempfail,

    /// <summary>A filter that fails is skipped (with a symbol and a log line).</summary>
    Continue,
}

/// <summary>A filter as configured in one phase: its name (for logs and replies), error handling and time budget.</summary>
public sealed record FilterSlot(string Name, IFilter Filter, OnError OnError, TimeSpan Budget);
