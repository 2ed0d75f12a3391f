namespace Gateway.Tracking;

/// <summary>Where the tracking store lives: a file on this gateway, or a PostgreSQL server a fleet shares.</summary>
public enum TrackingDatabase { Sqlite, Postgresql }

/// <summary>
/// gateway.yaml's <c>tracking</c> section: the database every finished transaction is written to (off the SMTP
/// path), how long records are kept and how many at most.
/// </summary>
/// <param name="Path">The SQLite file (absolute).</param>
/// <param name="ConnectionString">The PostgreSQL connection string (Npgsql's keywords).</param>
/// <param name="Retention">Records older than this are deleted by the periodic sweep.</param>
/// <param name="MaxRows">The size bound: the oldest records past this many are deleted by the sweep.</param>
/// <param name="QueueSize">Records waiting to be written; past it new ones are dropped (counted, logged once).</param>
/// <param name="SweepInterval">How often retention and the size bound are enforced (the quarantine's expiry too).</param>
public sealed record TrackingConfig(
    TrackingDatabase Database,
    string? Path,
    string? ConnectionString,
    TimeSpan Retention,
    long MaxRows,
    int QueueSize,
    TimeSpan SweepInterval)
{
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    /// <summary>Records written to the database in one transaction.</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>Names the store for log lines without its password.</summary>
    public string Describe() => Database == TrackingDatabase.Sqlite ? $"sqlite {Path}" : $"postgresql {Redact(ConnectionString ?? "")}";

    private static string Redact(string connectionString) =>
        string.Join(';', connectionString.Split(';').Where(p => !p.TrimStart().StartsWith("password", StringComparison.OrdinalIgnoreCase)));
}
