namespace Gateway.Admin.WebConsole;

/// <summary>
/// Counts failed logins per user name and per client address, in memory (each gateway its own): the web console's
/// lockout with <c>state.backend: memory</c>, and its fallback while Redis does not answer (<see cref="LoginThrottle"/>). Past
/// <see cref="LockoutPolicy.Failures"/> failures within <see cref="LockoutPolicy.Duration"/>, the name or the address
/// is refused, right password or not, until the duration has passed since the last failure that locked it.
/// Only configured user names are counted by name (a flood of made-up names cannot grow the table); every address is.
/// At most <see cref="MaxEntries"/> addresses and names are kept: past it, those not locked are forgotten first.
/// </summary>
public sealed class MemoryLoginCounts(LockoutPolicy policy, TimeProvider time)
{
    public const int MaxEntries = 10_000;

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Why <paramref name="user"/> from <paramref name="address"/> may not try now ("user", "address"), or null.</summary>
    public string? Locked(string? user, string address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (user is not null && IsLocked(UserKey(user), now))
                return "user";
            return IsLocked(AddressKey(address), now) ? "address" : null;
        }
    }

    /// <summary>Counts a failure; returns what it locked ("user", "address", or null for nothing new).</summary>
    /// <param name="user">The name tried, when it is a configured user; null otherwise.</param>
    public string? Failed(string? user, string address)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_entries.Count >= MaxEntries)
                Trim(now);
            string? locked = null;
            if (Count(AddressKey(address), now))
                locked = "address";
            if (user is not null && Count(UserKey(user), now))
                locked = "user";
            return locked;
        }
    }

    /// <summary>A successful login forgets that name's and that address's failures.</summary>
    public void Succeeded(string user, string address)
    {
        lock (_gate)
        {
            _entries.Remove(UserKey(user));
            _entries.Remove(AddressKey(address));
        }
    }

    private static string UserKey(string user) => "u:" + user;

    private static string AddressKey(string address) => "a:" + address;

    private bool IsLocked(string key, DateTimeOffset now) => _entries.TryGetValue(key, out var e) && e.LockedUntil > now;

    /// <returns>true when this failure locks the key.</returns>
    private bool Count(string key, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(key, out var e))
            _entries[key] = e = new Entry();
        while (e.Failures.Count > 0 && e.Failures.Peek() <= now - policy.Duration)
            e.Failures.Dequeue();
        e.Failures.Enqueue(now);
        if (e.Failures.Count < policy.Failures)
            return false;
        var wasLocked = e.LockedUntil > now;
        e.LockedUntil = now + policy.Duration;
        return !wasLocked;
    }

    private void Trim(DateTimeOffset now)
    {
        foreach (var (key, e) in _entries.Where(p => p.Value.LockedUntil <= now && (p.Value.Failures.Count == 0 || p.Value.Failures.Last() <= now - policy.Duration)).ToList())
            _entries.Remove(key);
        if (_entries.Count < MaxEntries)
            return;
        foreach (var (key, _) in _entries.Where(p => p.Value.LockedUntil <= now).ToList())
            _entries.Remove(key);
    }

    private sealed class Entry
    {
        public readonly Queue<DateTimeOffset> Failures = new();
        public DateTimeOffset LockedUntil;
    }
}
