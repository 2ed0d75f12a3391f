namespace Gateway.Quarantine;

/// <summary>
/// Where held messages are kept. <see cref="SaveAsync"/> runs before the client is answered: it returns only once
/// the message and its entry are durable, or fails leaving nothing behind (the caller answers 452 4.3.1).
/// </summary>
public interface IQuarantineStore
{
    /// <summary>Where this store is, for log lines and messages ("directory /var/...", "postgresql Host=...").</summary>
    string Describe();

    /// <returns>null when stored, else why not.</returns>
    Task<string?> SaveAsync(QuarantineEntry entry, string header, Stream message, CancellationToken cancellationToken);

    /// <summary>Oldest first.</summary>
    Task<IReadOnlyList<QuarantineEntry>> ListAsync(QuarantineQuery query, CancellationToken cancellationToken);

    Task<QuarantineEntry?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>The stored bytes (the header the gateway added, then the message), or null when gone.</summary>
    Task<Stream?> OpenMessageAsync(string id, CancellationToken cancellationToken);

    /// <returns>false when there was no such message.</returns>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes what expired before <paramref name="now"/>; returns how many.</summary>
    Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Keeps who did what to a held message (release, delete), beside the messages.</summary>
    Task AuditAsync(QuarantineAudit audit, CancellationToken cancellationToken);

    /// <summary>The audit trail, oldest first.</summary>
    Task<IReadOnlyList<QuarantineAudit>> AuditTrailAsync(string? id, CancellationToken cancellationToken);
}

/// <summary>One action on a held message: "release" or "delete", who did it, and what came of it.</summary>
public sealed record QuarantineAudit(DateTimeOffset Time, string Id, string Action, string Actor, string Result);
