using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.State;

namespace Gateway.Detection.Bayes;

/// <summary>Where the statistics are kept.</summary>
public enum BayesStoreKind
{
    /// <summary>A local file (one gateway): the default.</summary>
    File,

    /// <summary>The Redis server of gateway.yaml's <c>state</c> section, shared by a fleet.</summary>
    Redis,
}

/// <summary>
/// What the filter, <c>gateway learn</c> and the feedback paths share: the tokenizer and where the statistics live.
/// The statistics (the snapshot the filter scores with) are kept once per store for the process, so that a
/// configuration reload or <c>gateway explain</c> does not read them again.
/// </summary>
public sealed class BayesSetup(BayesStoreKind kind, string path, BayesLimits limits, BayesRetention retention, TimeSpan refresh)
{
    private static readonly ConcurrentDictionary<string, Lazy<BayesStatistics>> Shared = new(StringComparer.Ordinal);

    public BayesStoreKind Kind { get; } = kind;

    /// <summary>The file of a file store (absolute).</summary>
    public string Path { get; } = path;

    public BayesTokenizer Tokenizer { get; } = new(limits);

    public BayesRetention Retention { get; } = retention;

    public TimeSpan Refresh { get; } = refresh;

    /// <summary>Why this store cannot be used with this state section, or null.</summary>
    public string? Problem(StateConfig state) => Kind == BayesStoreKind.Redis && state.Backend != StateBackend.Redis
        ? "the bayes filter's 'store: redis' needs 'state.backend: redis' (the Redis it shares)"
        : null;

    /// <summary>A new connection to the store (for <c>gateway learn</c>); dispose it after use.</summary>
    public IBayesStore OpenStore(StateConfig state) => Kind == BayesStoreKind.Redis
        ? new BayesRedisStore(state, Retention)
        : new BayesFileStore(Path, Retention);

    private string Key(StateConfig state) => Kind == BayesStoreKind.Redis
        ? $"redis {state.RedisEndpoint} {state.KeyPrefix} {Refresh.Ticks}"
        : $"file {Path} {Refresh.Ticks}";

    /// <summary>The process's statistics for this store.</summary>
    public BayesStatistics Statistics(StateConfig state) =>
        Shared.GetOrAdd(Key(state), _ => new Lazy<BayesStatistics>(() => new BayesStatistics(OpenStore(state), Refresh, TimeProvider.System))).Value;

    /// <summary>The statistics of this store if the process has read them (to refresh them after a learn).</summary>
    public BayesStatistics? StatisticsIfLoaded(StateConfig state) =>
        Shared.TryGetValue(Key(state), out var lazy) && lazy.IsValueCreated ? lazy.Value : null;

    /// <summary>The bayes filter's setup in a configuration, or null when it has none.</summary>
    public static BayesSetup? Find(GatewayConfig config) =>
        config.Pipeline.Phases.Values.SelectMany(list => list).Select(d => d.Filter).OfType<BayesFilter>().FirstOrDefault()?.Setup;
}
