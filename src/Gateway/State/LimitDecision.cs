namespace Gateway.State;

/// <summary>
/// The answer to one rate-limit check. The algorithm is a sliding window log: the store keeps the time of every
/// event it allowed under a key, forgets those that are <c>window</c> old or older, and allows a new event only while
/// fewer than <c>limit</c> remain. So there are never more than <c>limit</c> allowed events in any period of length
/// <c>window</c>, whatever the concurrency (the check and the record are one atomic step), and a refused event costs
/// nothing. A key holds at most <c>limit</c> times and disappears <c>window</c> after its last allowed event.
/// </summary>
/// <param name="Allowed">Whether this event stays within the limit (and was recorded).</param>
/// <param name="Count">Events in the window, this one included when allowed.</param>
/// <param name="RetryAfter">When refused: how long until the oldest event in the window leaves it.</param>
public readonly record struct LimitDecision(bool Allowed, long Count, TimeSpan RetryAfter);
