using Gateway.Configuration;

namespace Gateway.State;

/// <summary>Where rate limits and greylisting keep their counters.</summary>
public enum StateBackend
{
    /// <summary>In this process: one gateway alone (the default).</summary>
    Memory,

    /// <summary>A Redis server shared by several gateways.</summary>
    Redis,
}

/// <summary>What a rate limit or greylist check does when its backend cannot answer in time.</summary>
public enum OnBackendError
{
    /// <summary>Let the mail through (with a symbol and a log line): an outage of Redis is not an outage of mail.</summary>
    Allow,

    /// <summary>Answer 451 4.3.0, so that the sender retries when the backend is back.</summary>
    Tempfail,
}

/// <summary>gateway.yaml's <c>state</c> section.</summary>
/// <param name="RedisEndpoint">host:port of the Redis server (used with <see cref="StateBackend.Redis"/>).</param>
/// <param name="KeyPrefix">Put in front of every Redis key, so that several gateways' groups can share one Redis.</param>
/// <param name="Timeout">How long one check may wait for Redis before it counts as a backend error.</param>
public sealed record StateConfig(StateBackend Backend, HostPort RedisEndpoint, string KeyPrefix, TimeSpan Timeout, OnBackendError OnBackendError)
{
    public static readonly StateConfig Default = new(StateBackend.Memory, new HostPort("127.0.0.1", 6379), "gw:", TimeSpan.FromMilliseconds(250), OnBackendError.Allow);

    /// <summary>"memory" or "redis HOST:PORT", for logs.</summary>
    public string Description => Backend == StateBackend.Memory ? "memory" : $"redis {RedisEndpoint}";
}
