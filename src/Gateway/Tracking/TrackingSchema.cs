namespace Gateway.Tracking;

/// <summary>
/// The tracking database's schema, one list of statements per version (<see cref="TrackingDb.SchemaVersion"/>).
/// A new version appends a step; a step already applied is never changed.
/// </summary>
public static class TrackingSchema
{
    public static IReadOnlyList<string> Steps(int version, string blobType) => version switch
    {
        1 =>
        [
            // One row per transaction: the searchable fields as columns, everything (recipients' replies, evidence) as JSON.
            """
            CREATE TABLE transactions (
                id TEXT PRIMARY KEY,
                time_ms BIGINT NOT NULL,
                gateway TEXT NOT NULL,
                client_address TEXT NOT NULL,
                sender TEXT,
                recipients TEXT NOT NULL,
                message_id TEXT,
                subject TEXT,
                outcome TEXT NOT NULL,
                decided_by TEXT NOT NULL,
                quarantine_id TEXT,
                detail TEXT NOT NULL)
            """,
            "CREATE INDEX transactions_time ON transactions (time_ms)",
            "CREATE INDEX transactions_message_id ON transactions (message_id)",
            // The quarantine: its index and, for a fleet, the message bytes (a single gateway may keep them in a directory).
            $"""
            CREATE TABLE quarantine (
                id TEXT PRIMARY KEY,
                time_ms BIGINT NOT NULL,
                expires_ms BIGINT NOT NULL,
                gateway TEXT NOT NULL,
                sender TEXT NOT NULL,
                recipients TEXT NOT NULL,
                subject TEXT,
                reason TEXT NOT NULL,
                entry TEXT NOT NULL,
                message {blobType} NOT NULL)
            """,
            "CREATE INDEX quarantine_time ON quarantine (time_ms)",
            "CREATE INDEX quarantine_expires ON quarantine (expires_ms)",
            // Who released or deleted what, and when.
            """
            CREATE TABLE quarantine_log (
                time_ms BIGINT NOT NULL,
                id TEXT NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                result TEXT NOT NULL)
            """,
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(version)),
    };
}
