namespace Gateway.Authentication.Arc;

/// <summary>One ARC set as found in the message: instance, the sealer's domain and selector, and what it recorded.</summary>
/// <param name="Instance">The i= shared by the set's headers (1 is the oldest).</param>
/// <param name="SealDomain">d= of the ARC-Seal of that instance, or null when it has none or cannot be read.</param>
/// <param name="Selector">s= of the ARC-Seal of that instance.</param>
/// <param name="AuthenticationResults">The ARC-Authentication-Results value of that instance, unfolded, unparsed.</param>
public sealed record ArcHop(int Instance, string? SealDomain, string? Selector, string? AuthenticationResults);

/// <summary>The result of validating a message's Authenticated Received Chain.</summary>
/// <param name="Result">The chain validation status.</param>
/// <param name="Reason">Why the chain failed, short; null unless <see cref="ArcResult.Fail"/>.</param>
/// <param name="Hops">The ARC sets found, oldest first (also when the chain failed, for logs and explain).</param>
/// <param name="OldestPass">RFC 8617 "oldest-pass" for a passing chain: 0 when every ARC-Message-Signature still verifies,
/// else the lowest instance whose ARC-Message-Signature verifies; null when the chain did not pass.</param>
public sealed record ArcOutcome(ArcResult Result, string? Reason, IReadOnlyList<ArcHop> Hops, int? OldestPass)
{
    /// <summary>
    /// True when a key lookup failed temporarily (DNS timeout, SERVFAIL) while a failed chain was being validated, so the
    /// failure may not be final (another signature may also have been bad). RFC 8617 has no temperror (its cv and the
    /// "arc" Authentication-Results method know only none, pass and fail), so <see cref="Result"/> is still
    /// <see cref="ArcResult.Fail"/>; a caller may choose to tempfail the message instead of acting on the failure.
    /// </summary>
    public bool TemporaryFailure { get; init; }

    public static ArcOutcome NoChain { get; } = new(ArcResult.None, null, [], null);
}
