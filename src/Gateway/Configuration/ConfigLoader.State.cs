using Gateway.State;

namespace Gateway.Configuration;

/// <summary>The <c>state</c> section: where rate limits and greylisting keep their counters.</summary>
public static partial class ConfigLoader
{
    private static StateConfig ReadState(YamlMappingReader r)
    {
        var d = StateConfig.Default;
        var backend = r.Enum("backend", d.Backend);
        var onError = r.Enum("on_backend_error", d.OnBackendError);
        var redis = r.Mapping("redis");
        var endpoint = d.RedisEndpoint;
        var (endpointText, endpointNode) = redis.StringWithNode("endpoint");
        if (endpointText is not null)
        {
            if (TryParseHostPort(endpointText, out var parsed))
                endpoint = parsed;
            else
                redis.Error(endpointNode, $"'state.redis.endpoint' must be host:port, such as 127.0.0.1:6379, not '{endpointText}'");
        }
        var (prefix, prefixNode) = redis.StringWithNode("key_prefix");
        if (prefix is not null && (prefix.Length > 64 || prefix.Any(c => c is <= ' ' or > '~')))
            redis.Error(prefixNode, "'state.redis.key_prefix' must be at most 64 printable ASCII characters without spaces");
        var timeout = redis.Duration("timeout", d.Timeout);
        if (timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromSeconds(10))
            redis.Error(redis.Get("timeout"), "'state.redis.timeout' must be between 10ms and 10s");
        redis.RejectUnknownKeys();
        r.RejectUnknownKeys();
        return new StateConfig(backend, endpoint, prefix ?? d.KeyPrefix, timeout, onError);
    }
}
