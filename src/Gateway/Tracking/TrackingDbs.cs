using System.Collections.Concurrent;

namespace Gateway.Tracking;

/// <summary>
/// One <see cref="TrackingDb"/> (one connection pool, one schema check) per database for the process: the tracking
/// writer, the quarantine on the SMTP path and the commands share it, and a reload that keeps the same database
/// keeps its pool. Only the database's location is read from the config it was first opened with.
/// </summary>
public static class TrackingDbs
{
    private static readonly ConcurrentDictionary<(TrackingDatabase, string?, string?), Lazy<TrackingDb>> Open = new();

    public static TrackingDb For(TrackingConfig config) =>
        Open.GetOrAdd((config.Database, config.Path, config.ConnectionString), _ => new Lazy<TrackingDb>(() => TrackingDb.Open(config))).Value;
}
