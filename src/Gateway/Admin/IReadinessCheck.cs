namespace Gateway.Admin;

/// <summary>
/// A dependency that can say whether it is usable, for <c>GET /health/ready</c>. A filter that needs a service (clamd,
/// say) implements it and is asked at each readiness probe; so is the shared-state store (Redis).
/// </summary>
public interface IReadinessCheck
{
    /// <summary>What the check is called in the health body ("redis 127.0.0.1:6379", "clamd 127.0.0.1:3310").</summary>
    string ReadinessName { get; }

    /// <summary>Null when ready, else why not, in a few words. Must return within a few seconds and never throw.</summary>
    ValueTask<string?> CheckReadinessAsync(CancellationToken cancellationToken);
}
