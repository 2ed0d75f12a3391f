using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Tracking;

/// <summary>
/// The tracking database (SQLite file or PostgreSQL server): opens connections, and creates or migrates the schema
/// once, on the first connection, under a lock (a fleet's gateways may start together). Both engines take the same
/// SQL: times are Unix milliseconds in BIGINT columns, text is TEXT, and only the message column's type differs.
/// </summary>
public sealed class TrackingDb : IAsyncDisposable
{
    /// <summary>The schema this code writes; a newer one in the database is refused rather than misread.</summary>
    public const int SchemaVersion = 1;

    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;
    private readonly SemaphoreSlim _migrateLock = new(1, 1);
    private volatile bool _migrated;

    private TrackingDb(TrackingConfig config)
    {
        Config = config;
        if (config.Database == TrackingDatabase.Postgresql)
        {
            var builder = new NpgsqlConnectionStringBuilder(config.ConnectionString);
            if (!config.ConnectionString!.Contains("timeout", StringComparison.OrdinalIgnoreCase))
                builder.Timeout = 5; // connecting to a server that is down must not hold a quarantine decision for long
            _postgres = NpgsqlDataSource.Create(builder.ConnectionString);
        }
        else
        {
            _sqlite = new SqliteConnectionStringBuilder { DataSource = config.Path, Pooling = true, DefaultTimeout = 30 }.ToString();
        }
    }

    public TrackingConfig Config { get; }

    public bool IsPostgres => _postgres is not null;

    public string BlobType => IsPostgres ? "BYTEA" : "BLOB";

    public static TrackingDb Open(TrackingConfig config) => new(config);

    /// <summary>An open connection on a migrated schema. Throws <see cref="DbException"/> (or IOException) when the store is unavailable.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection;
        if (_postgres is not null)
            connection = await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        else
        {
            var directory = System.IO.Path.GetDirectoryName(Config.Path);
            if (directory is not null)
                Directory.CreateDirectory(directory);
            connection = new SqliteConnection(_sqlite);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            // FULL: a quarantined message the client was told 250 for must survive a power cut.
            await ExecuteAsync(connection, null, "PRAGMA synchronous=FULL", cancellationToken).ConfigureAwait(false);
        }
        try
        {
            if (!_migrated)
                await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task MigrateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await _migrateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_migrated)
                return;
            if (!IsPostgres)
                await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL", cancellationToken).ConfigureAwait(false);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            if (IsPostgres)
                await ExecuteAsync(connection, tx, "SELECT pg_advisory_xact_lock(746153001)", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, tx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", cancellationToken).ConfigureAwait(false);
            await using (var read = Command(connection, tx, "SELECT MAX(version) FROM schema_version"))
            {
                var value = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                var current = value is null or DBNull ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
                if (current > SchemaVersion)
                    throw new InvalidOperationException($"the tracking database has schema version {current}, newer than this gateway's {SchemaVersion}: upgrade the gateway");
                for (var version = current + 1; version <= SchemaVersion; version++)
                {
                    foreach (var statement in TrackingSchema.Steps(version, BlobType))
                        await ExecuteAsync(connection, tx, statement, cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, tx, $"INSERT INTO schema_version (version) VALUES ({version})", cancellationToken).ConfigureAwait(false);
                }
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            _migrated = true;
        }
        finally
        {
            _migrateLock.Release();
        }
    }

    /// <summary>
    /// Forgets pooled connections: after a PostgreSQL restart they are dead, and the first use of each would fail.
    /// </summary>
    public void ClearPool()
    {
        if (_postgres is not null)
            _postgres.Clear();
        else
            SqliteConnection.ClearAllPools();
    }

    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    public static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>A LIKE pattern finding <paramref name="text"/> anywhere, case-insensitively (use with <c>ESCAPE '\'</c> on a lower() column).</summary>
    public static string Contains(string text) =>
        "%" + text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    public static long ToMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
            await _postgres.DisposeAsync().ConfigureAwait(false);
        _migrateLock.Dispose();
    }
}
