namespace Gateway.Detection.Bayes;

/// <summary>What to do with one message: learn it as spam or ham, or forget it.</summary>
public enum LearnKind { Spam, Ham, Forget }

/// <summary>One message to learn or forget: its digest (so that it counts once) and its tokens.</summary>
public sealed record LearnItem(UInt128 Digest, LearnKind Kind, IReadOnlyList<ulong> Tokens);

/// <summary>What happened to one <see cref="LearnItem"/>.</summary>
public enum LearnOutcome
{
    /// <summary>Learned for the first time.</summary>
    Learned,

    /// <summary>Already learned as that class: nothing changed.</summary>
    AlreadyKnown,

    /// <summary>Learned before as the other class: moved to this one.</summary>
    Moved,

    /// <summary>Forgotten.</summary>
    Forgotten,

    /// <summary>Asked to forget a message that was never learned.</summary>
    NotKnown,
}

/// <summary>How large the store may grow: tokens seen once are dropped after <see cref="PruneHapaxesAfter"/> learns,
/// and past <see cref="MaxTokens"/> the least recently learned tokens go first; message digests are capped too.</summary>
public sealed record BayesRetention(int PruneHapaxesAfter, int MaxTokens, int MaxMessages)
{
    public static readonly BayesRetention Default = new(20_000, 1_000_000, 500_000);
}

/// <summary>
/// Where the statistics live: a local file for one gateway, or Redis shared by a fleet. A store applies a batch of
/// learns atomically and hands out read-only snapshots.
/// </summary>
public interface IBayesStore : IAsyncDisposable
{
    /// <summary>"file PATH" or "redis HOST:PORT", for logs.</summary>
    string Description { get; }

    /// <summary>The whole statistics, or null when the store's version is still <paramref name="knownVersion"/>.</summary>
    Task<BayesSnapshot?> LoadAsync(string? knownVersion, CancellationToken cancellationToken);

    /// <summary>Applies the items in order; the result lists one outcome per item.</summary>
    Task<IReadOnlyList<LearnOutcome>> LearnAsync(IReadOnlyList<LearnItem> items, CancellationToken cancellationToken);
}
