namespace Gateway.Authentication.Dmarc;

/// <summary>The DMARC result (RFC 8601 2.7.1 names).</summary>
public enum DmarcResult { None, Pass, Fail, TempError, PermError }

/// <summary>
/// The result of one DMARC evaluation.
/// </summary>
/// <param name="Result">none: no policy record (or no DMARC processing); temperror: a DNS failure kept the answer
/// from being known; permerror: no usable author domain, or a DMARC record too broken to use.</param>
/// <param name="Domain">The author domain evaluated (A-label form).</param>
/// <param name="OrganizationalDomain">Its Organizational Domain; null for a public suffix.</param>
/// <param name="Record">The policy record's text, as published.</param>
/// <param name="Policy">The policy that applies (p, sp or np); None when there is no record.</param>
/// <param name="Disposition">What the Domain Owner asks for this message: the policy after pct= when the result is
/// fail, None otherwise.</param>
/// <param name="PolicySource">"p", "sp" or "np"; null when there is no record.</param>
/// <param name="SpfAligned">SPF passed for a domain aligned with the author domain.</param>
/// <param name="DkimAlignedDomain">The d= of the first passing aligned signature.</param>
/// <param name="Reason">Why, in words, for logs and explain.</param>
/// <param name="Trace">The DNS queries made, each with its answer.</param>
public sealed record DmarcOutcome(
    DmarcResult Result,
    string? Domain,
    string? OrganizationalDomain,
    string? Record,
    DmarcPolicy Policy,
    DmarcPolicy Disposition,
    string? PolicySource,
    bool SpfAligned,
    string? DkimAlignedDomain,
    string? Reason,
    IReadOnlyList<string> Trace);
