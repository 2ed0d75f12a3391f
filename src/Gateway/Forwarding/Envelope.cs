
namespace Gateway.Forwarding;

/// <summary>What became of a message upstream: the reply for the client and a line for the log.</summary>
public sealed record UpstreamResult(Reply Reply, string Detail)
{
    public bool Delivered => Reply.IsPositive;
}

/// <summary>Where accepted mail goes: an SMTP relay or a directory.</summary>
public interface IUpstream : IAsyncDisposable
{
    /// <summary>
    /// Delivers <paramref name="header"/> (CRLF-terminated header lines to prepend) followed by the message bytes.
    /// Succeeds only if the upstream took the message for every recipient; never throws for upstream failures.
    /// </summary>
    Task<UpstreamResult> DeliverAsync(Envelope envelope, string header, Stream message, CancellationToken cancellationToken);
}
