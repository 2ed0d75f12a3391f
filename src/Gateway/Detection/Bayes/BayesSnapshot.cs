namespace Gateway.Detection.Bayes;

/// <summary>How many learned spam and ham messages held a token, and the learn (sequence number) that last touched it.</summary>
public readonly record struct TokenCount(uint Spam, uint Ham, uint LastLearn)
{
    public uint Total => Spam + Ham;
}

/// <summary>
/// The statistics the classifier reads: a read-only copy taken from the store and refreshed in the background, so
/// that no message waits for the store and every message of a snapshot is scored alike.
/// </summary>
/// <param name="Version">The store's version this copy was read at (to tell whether a newer one exists).</param>
public sealed class BayesSnapshot(IReadOnlyDictionary<ulong, TokenCount> tokens, long spamMessages, long hamMessages, long learns, string version)
{
    public static readonly BayesSnapshot Empty = new(new Dictionary<ulong, TokenCount>(), 0, 0, 0, "");

    public IReadOnlyDictionary<ulong, TokenCount> Tokens { get; } = tokens;

    public long SpamMessages { get; } = spamMessages;

    public long HamMessages { get; } = hamMessages;

    public long Learns { get; } = learns;

    public string Version { get; } = version;

    public override string ToString() => $"{SpamMessages} spam, {HamMessages} ham, {Tokens.Count} tokens";
}
