using Microsoft.Extensions.Logging;

namespace Gateway.State;

public static class StateStores
{
    /// <summary>The store gateway.yaml's <c>state</c> section asks for.</summary>
    public static IStateStore Create(StateConfig config, ILogger logger, TimeProvider time) => config.Backend switch
    {
        StateBackend.Redis => new RedisStateStore(config, logger, time),
        _ => new MemoryStateStore(time),
    };
}
