namespace Gateway.Authentication.Arc;

/// <summary>Limits applied to ARC validation.</summary>
/// <param name="MaxInstances">More ARC sets than this fail the chain: 1 to 50 (RFC 8617 5.2 allows at most 50, and MimeKit
/// refuses any instance above 50 itself).</param>
/// <param name="MinimumRsaBits">RSA keys shorter than this never verify: 1024 (RFC 8301) or more.</param>
/// <param name="ComputeOldestPass">Verify the older ARC-Message-Signatures of a passing chain for RFC 8617 "oldest-pass":
/// one more body hash and key lookup per older hop.</param>
public sealed record ArcOptions(int MaxInstances = 50, int MinimumRsaBits = 1024, bool ComputeOldestPass = true)
{
    public static ArcOptions Default { get; } = new();
}
