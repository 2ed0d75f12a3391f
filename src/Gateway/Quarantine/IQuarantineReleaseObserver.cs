namespace Gateway.Quarantine;

/// <summary>
/// Told about every message released from the quarantine after the upstream accepted it (a person judged it
/// wanted mail): the classifier implements it to learn the message as ham. Called before the message is deleted;
/// a failure is logged and does not undo the release.
/// </summary>
public interface IQuarantineReleaseObserver
{
    /// <param name="message">The stored bytes (the gateway's Received header, then the message), readable and seekable.</param>
    /// <param name="by">Who released it.</param>
    Task MessageReleasedAsync(QuarantineEntry entry, Stream message, string by, CancellationToken cancellationToken);
}
