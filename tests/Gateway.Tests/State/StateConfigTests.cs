using Gateway.Configuration;
using Gateway.State;

namespace Gateway.Tests.State;

public sealed class StateConfigTests
{
    private static ConfigResult Load(string state) =>
        ConfigLoader.Load(state + "\nrelay: { domains: [example.test] }\nupstream: { directory: out }\n", "gateway.yaml", Path.GetTempPath());

    [Fact]
    public void Without_a_state_section_counters_are_kept_in_memory_and_a_backend_error_allows()
    {
        var config = Load("").Config!;

        Assert.Equal(StateConfig.Default, config.State);
        Assert.Equal(StateBackend.Memory, config.State.Backend);
        Assert.Equal(OnBackendError.Allow, config.State.OnBackendError);
        Assert.Equal("memory", config.State.Description);
    }

    [Fact]
    public void The_redis_settings_are_read()
    {
        var config = Load("state: { backend: redis, on_backend_error: tempfail, redis: { endpoint: \"redis.internal:6380\", key_prefix: \"mx1:\", timeout: 100ms } }").Config!;

        Assert.Equal(new StateConfig(StateBackend.Redis, new HostPort("redis.internal", 6380), "mx1:", TimeSpan.FromMilliseconds(100), OnBackendError.Tempfail), config.State);
        Assert.Equal("redis redis.internal:6380", config.State.Description);
    }

    [Theory]
    [InlineData("state: { backend: memcached }", "'state.backend' must be one of memory | redis")]
    [InlineData("state: { on_backend_error: reject }", "'state.on_backend_error' must be one of allow | tempfail")]
    [InlineData("state: { redis: { endpoint: nowhere } }", "'state.redis.endpoint' must be host:port")]
    [InlineData("state: { redis: { timeout: 1m } }", "'state.redis.timeout' must be between 10ms and 10s")]
    [InlineData("state: { redis: { key_prefix: \"a b\" } }", "'state.redis.key_prefix' must be")]
    [InlineData("state: { redis: { password: x } }", "unknown key 'state.redis.password'")]
    public void Mistakes_are_reported(string state, string error)
    {
        var result = Load(state);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains(error, StringComparison.Ordinal));
    }
}
