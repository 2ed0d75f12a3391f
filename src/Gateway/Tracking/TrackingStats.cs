using System.Globalization;

namespace Gateway.Tracking;

/// <summary>Transactions in one hour with one outcome.</summary>
public sealed record HourCount(DateTimeOffset Hour, string Outcome, long Count);

/// <summary>How many transactions a key (a decider, a client address) had, by outcome.</summary>
public sealed record KeyCount(string Key, string Outcome, long Count);

/// <summary>
/// The web console's dashboard figures, counted by the database (same SQL for SQLite and PostgreSQL: integer
/// division of BIGINT milliseconds gives the hour).
/// </summary>
public sealed class TrackingStats(TrackingDb db)
{
    private const long HourMs = 3_600_000;

    /// <summary>Transactions per hour and outcome since <paramref name="since"/> (hours start on the hour, UTC).</summary>
    public async Task<IReadOnlyList<HourCount>> PerHourAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null,
            $"SELECT time_ms / {HourMs} AS h, outcome, COUNT(*) FROM transactions WHERE time_ms >= @since GROUP BY time_ms / {HourMs}, outcome");
        TrackingDb.Add(command, "since", TrackingDb.ToMs(since));
        var list = new List<HourCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new HourCount(DateTimeOffset.FromUnixTimeMilliseconds(Long(reader.GetValue(0)) * HourMs), reader.GetString(1), Long(reader.GetValue(2))));
        return list;
    }

    /// <summary>The filters and rules that decided most transactions other than deliveries since <paramref name="since"/>, by outcome.</summary>
    public Task<IReadOnlyList<KeyCount>> TopDecidersAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        TopAsync("decided_by", "outcome <> 'delivered'", true, since, limit, cancellationToken);

    /// <summary>The client addresses refused (rejected or tempfailed) most since <paramref name="since"/> (outcome "refused").</summary>
    public Task<IReadOnlyList<KeyCount>> TopRefusedClientsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken) =>
        TopAsync("client_address", "outcome IN ('rejected', 'tempfailed')", false, since, limit, cancellationToken);

    private async Task<IReadOnlyList<KeyCount>> TopAsync(string column, string condition, bool byOutcome, DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = TrackingDb.Command(connection, null,
            $"SELECT {column}, {(byOutcome ? "outcome" : "'refused'")}, COUNT(*) AS n FROM transactions WHERE time_ms >= @since AND {condition} GROUP BY {column}{(byOutcome ? ", outcome" : "")} ORDER BY n DESC, {column} LIMIT @limit");
        TrackingDb.Add(command, "since", TrackingDb.ToMs(since));
        TrackingDb.Add(command, "limit", (long)limit);
        var list = new List<KeyCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new KeyCount(reader.GetString(0), reader.GetString(1), Long(reader.GetValue(2))));
        return list;
    }

    private static long Long(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
}
