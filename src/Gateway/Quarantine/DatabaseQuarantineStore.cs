using System.Data.Common;
using System.Text;
using System.Text.Json;
using Gateway.Tracking;

namespace Gateway.Quarantine;

/// <summary>
/// The quarantine in the tracking database: the index (searchable columns and the entry as JSON) and the message
/// bytes in one row, written in one database transaction, so a held message is either wholly there or not at all.
/// On PostgreSQL every gateway of a fleet holds into, lists and releases from the same quarantine.
/// </summary>
public sealed class DatabaseQuarantineStore(TrackingDb db) : IQuarantineStore
{
    public string Describe() => db.Config.Describe();

    public async Task<string?> SaveAsync(QuarantineEntry entry, string header, Stream message, CancellationToken cancellationToken)
    {
        try
        {
            // The whole message is read before the database is touched: a failing source leaves no row.
            var headerBytes = Encoding.UTF8.GetBytes(header);
            var bytes = new byte[headerBytes.Length + message.Length];
            headerBytes.CopyTo(bytes, 0);
            message.Position = 0;
            await message.ReadExactlyAsync(bytes.AsMemory(headerBytes.Length), cancellationToken).ConfigureAwait(false);

            try
            {
                await InsertAsync(entry, bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (DbException)
            {
                // A pooled connection the server dropped (a restart, a failover) fails on first use: once more on a new one.
                db.ClearPool();
                await InsertAsync(entry, bytes, cancellationToken).ConfigureAwait(false);
            }
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"{db.Config.Describe()}: {e.Message}";
        }
    }

    private async Task InsertAsync(QuarantineEntry entry, byte[] bytes, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, tx, """
            INSERT INTO quarantine (id, time_ms, expires_ms, gateway, sender, recipients, subject, reason, entry, message)
            VALUES (@id, @time, @expires, @gateway, @sender, @recipients, @subject, @reason, @entry, @message)
            """);
        TrackingDb.Add(command, "id", entry.Id);
        TrackingDb.Add(command, "time", TrackingDb.ToMs(entry.Time));
        TrackingDb.Add(command, "expires", TrackingDb.ToMs(entry.Expires));
        TrackingDb.Add(command, "gateway", TrackedTransaction.Clean(entry.Gateway));
        TrackingDb.Add(command, "sender", TrackedTransaction.Clean(entry.MailFrom.ToLowerInvariant()));
        TrackingDb.Add(command, "recipients", TrackedTransaction.Clean(TrackingStore.AddressList(entry.RcptTo)));
        TrackingDb.Add(command, "subject", entry.Subject is null ? null : TrackedTransaction.Clean(entry.Subject));
        TrackingDb.Add(command, "reason", TrackedTransaction.Clean(entry.Reason));
        TrackingDb.Add(command, "entry", TrackedTransaction.Clean(JsonSerializer.Serialize(entry, DirectoryQuarantineStore.Json)));
        TrackingDb.Add(command, "message", bytes);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QuarantineEntry>> ListAsync(QuarantineQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "");
        var where = new List<string>();
        void Like(string column, string name, string? value)
        {
            if (value is null)
                return;
            where.Add($"LOWER({column}) LIKE @{name} ESCAPE '\\'");
            TrackingDb.Add(command, name, TrackingDb.Contains(value));
        }
        Like("sender", "sender", query.From?.Trim('<', '>'));
        Like("recipients", "recipients", query.To?.Trim('<', '>'));
        Like("subject", "subject", query.Subject);
        Like("reason", "reason", query.Reason);
        if (query.Since is { } since)
        {
            where.Add("time_ms >= @since");
            TrackingDb.Add(command, "since", TrackingDb.ToMs(since));
        }
        TrackingDb.Add(command, "limit", (long)Math.Clamp(query.Limit, 1, 100_000));
        command.CommandText = "SELECT entry FROM quarantine" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY time_ms, id LIMIT @limit";
        var list = new List<QuarantineEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (JsonSerializer.Deserialize<QuarantineEntry>(reader.GetString(0), DirectoryQuarantineStore.Json) is { } e)
                list.Add(e);
        }
        return list;
    }

    public async Task<QuarantineEntry?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "SELECT entry FROM quarantine WHERE id = @id");
        TrackingDb.Add(command, "id", id);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string json
            ? JsonSerializer.Deserialize<QuarantineEntry>(json, DirectoryQuarantineStore.Json)
            : null;
    }

    public async Task<Stream?> OpenMessageAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "SELECT message FROM quarantine WHERE id = @id");
        TrackingDb.Add(command, "id", id);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] bytes ? new MemoryStream(bytes, writable: false) : null;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "DELETE FROM quarantine WHERE id = @id");
        TrackingDb.Add(command, "id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "DELETE FROM quarantine WHERE expires_ms <= @now");
        TrackingDb.Add(command, "now", TrackingDb.ToMs(now));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task AuditAsync(QuarantineAudit audit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null, "INSERT INTO quarantine_log (time_ms, id, action, actor, result) VALUES (@time, @id, @action, @actor, @result)");
        TrackingDb.Add(command, "time", TrackingDb.ToMs(audit.Time));
        TrackingDb.Add(command, "id", audit.Id);
        TrackingDb.Add(command, "action", audit.Action);
        TrackingDb.Add(command, "actor", TrackedTransaction.Clean(audit.Actor));
        TrackingDb.Add(command, "result", TrackedTransaction.Clean(audit.Result));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QuarantineAudit>> AuditTrailAsync(string? id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null,
            "SELECT time_ms, id, action, actor, result FROM quarantine_log" + (id is null ? "" : " WHERE id = @id") + " ORDER BY time_ms");
        if (id is not null)
            TrackingDb.Add(command, "id", id);
        var list = new List<QuarantineAudit>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new QuarantineAudit(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        return list;
    }
}
