namespace Gateway.Tracking;

/// <summary>
/// A search of the tracking store: every given filter must match. Addresses and Subject match anywhere in the
/// value, ignoring case; <see cref="Id"/> matches a transaction id, a session id, a quarantine id or a Message-ID.
/// </summary>
public sealed record TrackingQuery
{
    public string? Id { get; init; }
    public string? From { get; init; }
    public string? To { get; init; }
    public string? Subject { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>delivered, rejected, tempfailed, quarantined, discarded, abandoned; empty: any.</summary>
    public IReadOnlyList<string> Outcomes { get; init; } = [];
    public int Limit { get; init; } = 100;
}
