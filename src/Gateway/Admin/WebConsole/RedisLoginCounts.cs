// Written by hand, as the rate limits' scripts are (State/RedisScripts.cs): a lockout (failures in a sliding
// window, then a lock for a duration) is neither a rate limit's sliding window nor greylisting.
using System.Globalization;
using Gateway.State;
using StackExchange.Redis;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// The web console's failed logins counted in the shared state's Redis (<see cref="RedisStateStore"/>: its
/// connection, key prefix and timeout), so that every gateway behind one load balancer sees the same counts and
/// locks: an attacker does not get <see cref="LockoutPolicy.Failures"/> tries per gateway. Each operation is one Lua
/// script, atomic across gateways, and answers as <see cref="MemoryLoginCounts"/> does for the same times. Keys:
/// <c>login:user|NAME</c> and <c>login:address|ADDRESS</c> (sorted sets of failure times), <c>lockout:user|NAME</c>
/// and <c>lockout:address|ADDRESS</c> (the time a lock ends); each expires after the lockout duration.
/// </summary>
/// <remarks>Every method throws <see cref="StateUnavailableException"/> when Redis does not answer in time.</remarks>
internal sealed class RedisLoginCounts(RedisStateStore store, LockoutPolicy policy, TimeProvider time)
{
    private static readonly string Instance = Guid.NewGuid().ToString("N")[..12];
    private static long _sequence;

    /// <summary>KEYS: lock keys, in the order asked. ARGV: now. Returns the 1-based index of the first locked, or 0.</summary>
    private const string LockedScript = """
        local now = tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          local ends = tonumber(redis.call('GET', key))
          if ends and ends > now then
            return i
          end
        end
        return 0
        """;

    /// <summary>
    /// KEYS: pairs of (failures, lock). ARGV: now, duration, failures, a unique member. Counts the failure under
    /// each pair; at the limit, (re)locks until now + duration. Returns, per pair, 1 when this failure locked it.
    /// </summary>
    private const string FailedScript = """
        local now = tonumber(ARGV[1])
        local duration = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local locked = {}
        for i = 1, #KEYS, 2 do
          redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - duration)
          redis.call('ZADD', KEYS[i], now, ARGV[4])
          redis.call('PEXPIRE', KEYS[i], duration)
          local newly = 0
          if redis.call('ZCARD', KEYS[i]) >= limit then
            local ends = tonumber(redis.call('GET', KEYS[i + 1]))
            if not (ends and ends > now) then
              newly = 1
            end
            redis.call('SET', KEYS[i + 1], string.format('%d', now + duration), 'PX', duration)
          end
          locked[#locked + 1] = newly
        end
        return locked
        """;

    private const string ForgetScript = """
        redis.call('DEL', unpack(KEYS))
        return 0
        """;

    /// <summary>The state store whose Redis holds the counts.</summary>
    public RedisStateStore Store => store;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long Duration => (long)policy.Duration.TotalMilliseconds;

    /// <summary>As <see cref="MemoryLoginCounts.Locked"/>.</summary>
    public async Task<string?> LockedAsync(string? user, string address, CancellationToken cancellationToken)
    {
        string[] keys = user is null ? [Lock("address", address)] : [Lock("user", user), Lock("address", address)];
        var index = (long)await store.EvaluateAsync(LockedScript, keys, [Now], cancellationToken).ConfigureAwait(false);
        return index == 0 ? null : user is not null && index == 1 ? "user" : "address";
    }

    /// <summary>As <see cref="MemoryLoginCounts.Failed"/>.</summary>
    public async Task<string?> FailedAsync(string? user, string address, CancellationToken cancellationToken)
    {
        string[] keys = user is null
            ? [Failures("address", address), Lock("address", address)]
            : [Failures("address", address), Lock("address", address), Failures("user", user), Lock("user", user)];
        var member = string.Create(CultureInfo.InvariantCulture, $"{Now}:{Instance}:{Interlocked.Increment(ref _sequence)}");
        var result = (RedisResult[])(await store.EvaluateAsync(FailedScript, keys, [Now, Duration, policy.Failures, member], cancellationToken).ConfigureAwait(false))!;
        return result.Length > 1 && (long)result[1] == 1 ? "user" : (long)result[0] == 1 ? "address" : null;
    }

    /// <summary>As <see cref="MemoryLoginCounts.Succeeded"/>.</summary>
    public Task SucceededAsync(string user, string address, CancellationToken cancellationToken) =>
        store.EvaluateAsync(ForgetScript, [Failures("user", user), Lock("user", user), Failures("address", address), Lock("address", address)], [], cancellationToken);

    private static string Failures(string kind, string value) => StateKey.Join("login", [kind, value]);

    private static string Lock(string kind, string value) => StateKey.Join("lockout", [kind, value]);
}
