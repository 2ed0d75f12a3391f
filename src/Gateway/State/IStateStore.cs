namespace Gateway.State;

/// <summary>
/// The shared state of rate limits and greylisting: a few operations, each atomic on its backend, so that
/// concurrent sessions (and several gateways sharing Redis) never count past a limit. Times come from the
/// store's <see cref="TimeProvider"/>; gateways sharing Redis need clocks in step (NTP).
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>"memory" or "redis HOST:PORT".</summary>
    string Description { get; }

    /// <summary>
    /// Records one event under <paramref name="key"/> if fewer than <paramref name="limit"/> events were recorded in
    /// the last <paramref name="window"/> (a sliding window log: see <see cref="LimitDecision"/>); a refused event is
    /// not recorded.
    /// </summary>
    /// <exception cref="StateUnavailableException">The backend did not answer in time.</exception>
    ValueTask<LimitDecision> HitAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>Looks up and updates the greylisting record of one triplet (see <see cref="GreylistDecision"/>).</summary>
    /// <exception cref="StateUnavailableException">The backend did not answer in time.</exception>
    ValueTask<GreylistDecision> GreylistAsync(string key, GreylistTimes times, CancellationToken cancellationToken);
}
