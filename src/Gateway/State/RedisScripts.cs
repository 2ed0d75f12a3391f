// Written by hand: RedisRateLimiting (System.Threading.RateLimiting over Redis) was considered, but its lease API has
// no in-memory twin that answers exactly alike, no per-key retry time for the reply, and no greylisting.
namespace Gateway.State;

/// <summary>
/// The Lua scripts behind <see cref="RedisStateStore"/>: each runs atomically in Redis, and does exactly what
/// <see cref="MemoryStateStore"/> does under its lock. Times are the gateway's (milliseconds since 1970), passed in,
/// so that both backends answer alike; Redis's own expiry (always set) only removes keys nobody needs any more.
/// </summary>
internal static class RedisScripts
{
    /// <summary>KEYS[1]: the sorted set of event times. ARGV: now, window, limit, a unique member. Returns {allowed, count, retry_ms}.</summary>
    public const string Hit = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local count = redis.call('ZCARD', KEYS[1])
        if count < limit then
          redis.call('ZADD', KEYS[1], now, ARGV[4])
          redis.call('PEXPIRE', KEYS[1], window)
          return {1, count + 1, 0}
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {0, count, tonumber(oldest[2]) + window - now}
        """;

    /// <summary>
    /// KEYS[1]: the triplet's hash (first, passed, expires). ARGV: now, delay, retry window, expiry.
    /// Returns {status, retry_ms}, status as <see cref="GreylistStatus"/> (0 new, 1 too early, 2 passed, 3 known).
    /// </summary>
    public const string Greylist = """
        local now = tonumber(ARGV[1])
        local delay = tonumber(ARGV[2])
        local record = redis.call('HMGET', KEYS[1], 'first', 'passed', 'expires')
        local first = tonumber(record[1])
        local expires = tonumber(record[3])
        local status
        local passed = '0'
        if first and expires and expires > now then
          if record[2] == '1' then
            status = 3
          elseif now >= first + delay then
            status = 2
          else
            return {1, first + delay - now}
          end
          passed = '1'
          expires = now + tonumber(ARGV[4])
        else
          status = 0
          first = now
          expires = now + tonumber(ARGV[3])
        end
        redis.call('HSET', KEYS[1], 'first', string.format('%d', first), 'passed', passed, 'expires', string.format('%d', expires))
        redis.call('PEXPIRE', KEYS[1], expires - now)
        if status == 0 then
          return {0, delay}
        end
        return {status, 0}
        """;
}
