using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Pipeline;

/// <summary>
/// Runs the filters configured for a phase, in order. A filter that throws or exceeds its time budget is handled
/// by its <see cref="OnError"/>: 451 4.3.0 (the default) or skipped. An <see cref="VerdictKind.Accept"/> ends the
/// phase; a final verdict ends it and decides.
/// </summary>
public sealed class FilterPipeline(IReadOnlyDictionary<Phase, IReadOnlyList<FilterSlot>> phases, ILogger logger)
{
    public static readonly FilterPipeline Empty = new(new Dictionary<Phase, IReadOnlyList<FilterSlot>>(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    private readonly HashSet<Phase> _inline = [.. phases.Where(p => p.Value.All(s => s.Filter.RunsInline)).Select(p => p.Key)];

    public IReadOnlyList<FilterSlot> For(Phase phase) => phases.TryGetValue(phase, out var slots) ? slots : [];

    public bool Has(Phase phase) => For(phase).Count > 0;

    /// <summary>Where filters log what they skipped (a DNS list that failed, for example).</summary>
    public ILogger Logger => logger;

    /// <summary>Lets every filter of every phase that wants to start work at connect (<see cref="IStartsAtConnect"/>) start it.</summary>
    public void StartAtConnect(SessionState session)
    {
        foreach (var slots in phases.Values)
        {
            foreach (var slot in slots)
            {
                if (slot.Filter is IStartsAtConnect starter)
                    starter.StartAtConnect(session);
            }
        }
    }

    /// <returns>The final verdict of the phase, or null when every filter let it continue.</returns>
    public async ValueTask<Verdict?> RunAsync(FilterContext context, Evaluation evaluation, CancellationToken cancellationToken)
    {
        var slots = For(context.Phase);
        if (slots.Count == 0)
            return null;
        // Filters may spend CPU (parsing, regexes, signatures): never on the socket engine's thread (see RunCommand),
        // unless every filter of the phase is a cheap one.
        if (!_inline.Contains(context.Phase))
            await Task.Yield();
        foreach (var slot in slots)
        {
            var started = Stopwatch.GetTimestamp();
            var verdict = await EvaluateAsync(slot, context, cancellationToken).ConfigureAwait(false);
            evaluation.Add(new TraceEntry(context.Phase, slot.Name, verdict, Stopwatch.GetElapsedTime(started)));
            Admin.GatewayMetrics.FilterEvaluated(slot.Name, Stopwatch.GetElapsedTime(started));
            if (verdict.IsFinal)
                return verdict;
            if (verdict.Kind == VerdictKind.Accept)
                break;
        }
        return null;
    }

    private async ValueTask<Verdict> EvaluateAsync(FilterSlot slot, FilterContext context, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        string failure;
        Task<Verdict>? running = null;
        try
        {
            var pending = slot.Filter.EvaluateAsync(context, budget.Token);
            // Most filters answer at once (a list lookup, a cached result): no timer for those. The budget starts
            // when a filter has to wait.
            if (pending.IsCompletedSuccessfully)
                return pending.Result;
            // On the session's clock (tests advance a fake one); the filter's token is cancelled when it runs out.
            running = pending.AsTask();
            return await running.WaitAsync(slot.Budget, context.Session.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (running is { IsCompleted: false })
        {
            // The budget ran out (a filter's own TimeoutException, a regex's say, is its failure, below).
            await budget.CancelAsync().ConfigureAwait(false);
            failure = $"exceeded its time budget of {slot.Budget.TotalMilliseconds:0} ms";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = $"exceeded its time budget of {slot.Budget.TotalMilliseconds:0} ms";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failure = $"failed: {e.GetType().Name}: {e.Message}";
        }
        logger.LogWarning("session {Session}: filter {Filter} {Failure} (on_error: {OnError})", context.Session.Id, slot.Name, failure, slot.OnError.ToString().ToLowerInvariant());
        var symbol = new Symbol("FILTER_ERROR", 0, $"{slot.Name} {failure}");
        return slot.OnError == OnError.Continue
            ? new Verdict(VerdictKind.Continue, slot.Name, Symbols: [symbol])
            : new Verdict(VerdictKind.Tempfail, slot.Name, new Reply(451, "4.3.0", $"Temporary failure in filter {slot.Name}, try again later"), [symbol]);
    }
}
