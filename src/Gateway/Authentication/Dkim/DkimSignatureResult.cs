namespace Gateway.Authentication.Dkim;

/// <summary>
/// The outcome for one DKIM-Signature header, with what an Authentication-Results header and <c>gateway explain</c>
/// need: <c>header.d</c>, <c>header.s</c>, <c>header.a</c>, <c>header.i</c> and <c>header.b</c> (RFC 6008).
/// </summary>
/// <param name="Result">The RFC 8601 result for this signature.</param>
/// <param name="Domain">The signing domain (d=), when the signature had one.</param>
/// <param name="Selector">The selector (s=).</param>
/// <param name="Algorithm">The algorithm as written (a=).</param>
/// <param name="Identity">The agent or user identifier (i=), when present.</param>
/// <param name="HeaderB">The first characters of b= (at least 8, RFC 6008), to tell signatures apart.</param>
/// <param name="Reason">Why the result is not pass, short; null on pass.</param>
/// <param name="BodyLength">The l= value when the signature covers only part of the body.</param>
/// <param name="Trace">The DNS queries made for this signature and their answers.</param>
public sealed record DkimSignatureResult(
    DkimResult Result,
    string? Domain,
    string? Selector,
    string? Algorithm,
    string? Identity,
    string? HeaderB,
    string? Reason,
    long? BodyLength,
    IReadOnlyList<string> Trace);
