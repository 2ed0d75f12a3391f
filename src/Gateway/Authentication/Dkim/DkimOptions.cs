namespace Gateway.Authentication.Dkim;

/// <summary>Limits and clock of the DKIM check.</summary>
public sealed record DkimOptions
{
    /// <summary>Signatures checked per message, topmost first; those below get <see cref="DkimResult.Neutral"/>
    /// ("not checked") so that a message with hundreds of signatures cannot make us do hundreds of lookups.</summary>
    public int MaxSignatures { get; init; } = 10;

    /// <summary>RSA keys shorter than this never pass (RFC 8301 section 3.2 sets 1024 as the floor).</summary>
    public int MinimumRsaBits { get; init; } = 1024;

    /// <summary>The clock x= (expiry) is compared with.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
