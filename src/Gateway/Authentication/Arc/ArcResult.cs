namespace Gateway.Authentication.Arc;

/// <summary>
/// The chain validation status of RFC 8617 (the "cv" an ARC sealer would write, the "arc=" of Authentication-Results).
/// ARC has no temperror: a key that cannot be fetched leaves the chain unverified, which is <see cref="Fail"/>
/// (see <see cref="ArcOutcome.TemporaryFailure"/>).
/// </summary>
public enum ArcResult
{
    /// <summary>The message carries no ARC header at all.</summary>
    None,

    /// <summary>Every ARC set is present and well formed, the newest ARC-Message-Signature and every ARC-Seal verify.</summary>
    Pass,

    /// <summary>Anything else, including a chain an earlier hop already marked cv=fail.</summary>
    Fail,
}
