namespace Gateway.Pipeline;

/// <summary>A filter that depends on a service it can reach out to, so that <c>gateway check</c> can warn when it cannot.</summary>
public interface ICheckable
{
    /// <summary>Null when the service answers; otherwise what an administrator should read.</summary>
    Task<string?> CheckAsync(CancellationToken cancellationToken);
}
