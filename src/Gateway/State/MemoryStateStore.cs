// Written by hand: System.Threading.RateLimiting's in-memory limiters are segmented approximations that replenish on
// their own timers, so they cannot answer exactly as the Redis scripts do for the same events and times (which the
// tests prove with one fake clock), and no package keeps greylisting records.
using System.Collections.Concurrent;

namespace Gateway.State;

/// <summary>
/// The state of one gateway, in memory: every operation runs under the lock of its key, so it is atomic, and gives
/// the answers <see cref="RedisStateStore"/>'s scripts give for the same times. Expired keys are swept out every
/// minute (or every 10,000 operations), so memory follows the keys in use.
/// </summary>
public sealed class MemoryStateStore(TimeProvider time) : IStateStore
{
    private const int SweepEvery = 10_000;
    private static readonly long SweepInterval = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private long _operations;
    private long _nextSweep = long.MinValue;

    /// <summary>One key's record; <see cref="Removed"/> tells a thread that found it just before a sweep to start again.</summary>
    private sealed class Slot
    {
        public long ExpiresAt = long.MaxValue;
        public bool Removed;
        public Queue<long>? Events;
        public bool Seen;
        public long First;
        public bool Passed;
    }

    public string Description => "memory";

    /// <summary>Keys held now (expired ones not yet swept included).</summary>
    public int Count => _slots.Count;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public ValueTask<LimitDecision> HitAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var span = (long)window.TotalMilliseconds;
        return ValueTask.FromResult(Update(key, (slot, now) =>
        {
            var events = slot.Events ??= new Queue<long>();
            while (events.Count > 0 && events.Peek() <= now - span)
                events.Dequeue();
            if (events.Count >= limit)
                return new LimitDecision(false, events.Count, TimeSpan.FromMilliseconds(events.Peek() + span - now));
            events.Enqueue(now);
            slot.ExpiresAt = now + span;
            return new LimitDecision(true, events.Count, TimeSpan.Zero);
        }));
    }

    public ValueTask<GreylistDecision> GreylistAsync(string key, GreylistTimes times, CancellationToken cancellationToken)
    {
        var delay = (long)times.Delay.TotalMilliseconds;
        var window = (long)times.RetryWindow.TotalMilliseconds;
        var expiry = (long)times.Expiry.TotalMilliseconds;
        return ValueTask.FromResult(Update(key, (slot, now) =>
        {
            var known = slot.Seen && slot.ExpiresAt > now;
            if (known && slot.Passed)
            {
                slot.ExpiresAt = now + expiry;
                return new GreylistDecision(GreylistStatus.Known, TimeSpan.Zero);
            }
            if (known && now >= slot.First + delay)
            {
                slot.Passed = true;
                slot.ExpiresAt = now + expiry;
                return new GreylistDecision(GreylistStatus.Passed, TimeSpan.Zero);
            }
            if (known)
                return new GreylistDecision(GreylistStatus.TooEarly, TimeSpan.FromMilliseconds(slot.First + delay - now));
            slot.Seen = true;
            slot.Passed = false;
            slot.First = now;
            slot.ExpiresAt = now + window;
            return new GreylistDecision(GreylistStatus.New, times.Delay);
        }));
    }

    /// <summary>
    /// Runs <paramref name="change"/> on the key's slot under its lock, with the time read under the lock (so that
    /// one key's events are recorded in time order); a slot the sweep removed meanwhile is replaced.
    /// </summary>
    private T Update<T>(string key, Func<Slot, long, T> change)
    {
        while (true)
        {
            var slot = _slots.GetOrAdd(key, static _ => new Slot());
            T result;
            long now;
            lock (slot)
            {
                if (slot.Removed)
                    continue;
                now = Now;
                result = change(slot, now);
            }
            Sweep(now);
            return result;
        }
    }

    /// <summary>Drops the keys that have expired, at most once a minute or every 10,000 operations.</summary>
    private void Sweep(long now)
    {
        if (Interlocked.Increment(ref _operations) % SweepEvery != 0 && now < Volatile.Read(ref _nextSweep))
            return;
        Volatile.Write(ref _nextSweep, now + SweepInterval);
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (slot.Removed || slot.ExpiresAt > now)
                    continue;
                slot.Removed = true;
            }
            _slots.TryRemove(new KeyValuePair<string, Slot>(key, slot));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
