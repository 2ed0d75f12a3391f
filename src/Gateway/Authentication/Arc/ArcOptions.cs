namespace Gateway.Authentication.Arc;

/// <summary>Limits applied to ARC validation.</summary>
/// <param name="MaxInstances">More ARC sets than this fail the chain (RFC 8617 5.2 allows at most 50; MimeKit also stops at 50).</param>
/// <param name="MinimumRsaBits">RSA keys shorter than this never verify (RFC 8301: 1024).</param>
/// <param name="ComputeOldestPass">Verify the older ARC-Message-Signatures of a passing chain for RFC 8617 "oldest-pass":
/// one more body hash and key lookup per older hop.</param>
public sealed record ArcOptions(int MaxInstances = 50, int MinimumRsaBits = 1024, bool ComputeOldestPass = true)
{
    public static ArcOptions Default { get; } = new();
}
