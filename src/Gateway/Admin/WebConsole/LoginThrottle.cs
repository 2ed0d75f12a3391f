using Gateway.State;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// The web console's lockout (see <see cref="MemoryLoginCounts"/> for what it counts and when it locks). With
/// <c>state.backend: memory</c> each gateway counts on its own, in memory. With <c>state.backend: redis</c> the counts
/// and locks are in that Redis (<see cref="RedisLoginCounts"/>), shared by every gateway using it, so that a fleet
/// behind one load balancer locks a name out after the same number of failures as one gateway does.
/// </summary>
/// <remarks>
/// The store is asked for at each attempt (<paramref name="state"/>), so a reload that changes <c>state</c> applies
/// at the next login. Every failure is also counted in memory. When Redis does not answer within
/// <c>state.redis.timeout</c>, that attempt is decided by the memory counts, so an outage never opens the login page
/// to unlimited tries (nor closes it: <c>on_backend_error</c> is for mail, not for the console); one warning is
/// logged when an outage starts and one line when it ends.
/// </remarks>
public sealed class LoginThrottle(LockoutPolicy policy, TimeProvider time, Func<IStateStore?> state, ILogger logger)
{
    private readonly MemoryLoginCounts _memory = new(policy, time);
    private RedisLoginCounts? _shared;
    private int _down;

    /// <summary>Memory only (one gateway alone).</summary>
    public LoginThrottle(LockoutPolicy policy, TimeProvider time, ILogger logger) : this(policy, time, () => null, logger)
    {
    }

    public LockoutPolicy Policy => policy;

    /// <summary>Why <paramref name="user"/> from <paramref name="address"/> may not try now ("user", "address"), or null.</summary>
    public async Task<string?> LockedAsync(string? user, string address, CancellationToken cancellationToken)
    {
        if (_memory.Locked(user, address) is { } locked)
            return locked;
        return Shared() is { } shared ? await TryAsync(shared, s => s.LockedAsync(user, address, cancellationToken), null).ConfigureAwait(false) : null;
    }

    /// <summary>Counts a failure; returns what it locked ("user", "address", or null for nothing new).</summary>
    /// <param name="user">The name tried, when it is a configured user; null otherwise.</param>
    public async Task<string?> FailedAsync(string? user, string address, CancellationToken cancellationToken)
    {
        var locally = _memory.Failed(user, address);
        return Shared() is { } shared ? await TryAsync(shared, s => s.FailedAsync(user, address, cancellationToken), locally).ConfigureAwait(false) : locally;
    }

    /// <summary>A successful login forgets that name's and that address's failures.</summary>
    public async Task SucceededAsync(string user, string address, CancellationToken cancellationToken)
    {
        _memory.Succeeded(user, address);
        if (Shared() is { } shared)
            await TryAsync(shared, async s => { await s.SucceededAsync(user, address, cancellationToken).ConfigureAwait(false); return (string?)null; }, null).ConfigureAwait(false);
    }

    /// <summary>The Redis counts when the current state store is Redis; null for memory.</summary>
    private RedisLoginCounts? Shared()
    {
        if (state() is not RedisStateStore store)
            return null;
        var shared = Volatile.Read(ref _shared);
        if (shared?.Store != store)
            Volatile.Write(ref _shared, shared = new RedisLoginCounts(store, policy, time));
        return shared;
    }

    /// <summary>Redis's answer, or <paramref name="fallback"/> (the memory counts' answer) when it gives none.</summary>
    private async Task<string?> TryAsync(RedisLoginCounts shared, Func<RedisLoginCounts, Task<string?>> operation, string? fallback)
    {
        try
        {
            var answer = await operation(shared).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _down, 0) == 1)
                logger.LogInformation("console lockout: {Backend} available again; failed logins are counted there", shared.Store.Description);
            return answer ?? fallback;
        }
        catch (StateUnavailableException e)
        {
            if (Interlocked.Exchange(ref _down, 1) == 0)
                logger.LogWarning("console lockout: shared state unavailable ({Error}); failed logins are counted in this gateway's memory until it is back", e.Message);
            return fallback;
        }
    }
}
