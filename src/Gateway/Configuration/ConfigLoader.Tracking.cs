using Gateway.Tracking;

namespace Gateway.Configuration;

/// <summary>The <c>tracking</c> section: the message tracking store (and, when asked, the quarantine's database).</summary>
public static partial class ConfigLoader
{
    private static TrackingConfig ReadTracking(YamlMappingReader r, string baseDirectory)
    {
        var database = r.Enum("database", TrackingDatabase.Sqlite);
        var path = r.String("path");
        var (connection, connectionNode) = r.StringWithNode("connection_string");
        var retention = r.Duration("retention", TrackingConfig.DefaultRetention);
        if (retention < TimeSpan.FromMinutes(1))
            r.Error(r.Get("retention"), "'tracking.retention' must be at least 1m");
        var maxRows = r.Int("max_rows", 1_000_000, 100, int.MaxValue);
        var queue = r.Int("queue_size", 10_000, 10, 10_000_000);
        var sweep = r.Duration("sweep_interval", TimeSpan.FromMinutes(10));
        if (sweep < TimeSpan.FromSeconds(1))
            r.Error(r.Get("sweep_interval"), "'tracking.sweep_interval' must be at least 1s");
        r.RejectUnknownKeys();
        if (database == TrackingDatabase.Postgresql)
        {
            if (string.IsNullOrWhiteSpace(connection))
                r.Error(connectionNode ?? r.Node, "'tracking.database: postgresql' needs 'tracking.connection_string' (Host=...;Database=...;Username=...)");
            else
            {
                try
                {
                    _ = new Npgsql.NpgsqlConnectionStringBuilder(connection);
                }
                catch (ArgumentException e)
                {
                    r.Error(connectionNode, $"'tracking.connection_string' is not a valid connection string: {e.Message}");
                }
            }
            if (path is not null)
                r.Error(r.Get("path"), "'tracking.path' is the SQLite file; with 'database: postgresql' use 'connection_string'");
        }
        else if (connection is not null)
            r.Error(connectionNode, "'tracking.connection_string' is for 'database: postgresql'");
        return new TrackingConfig(database, database == TrackingDatabase.Sqlite ? Path.GetFullPath(path ?? "tracking.db", baseDirectory) : null,
            connection, retention, maxRows, queue, sweep);
    }
}
