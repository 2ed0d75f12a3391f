namespace Gateway.Authentication.Dmarc;

/// <summary>What DMARC needs of SPF and DKIM, reduced to four outcomes (the caller maps the checks' results).</summary>
public enum AuthVerdict { Pass, Fail, TempError, Other }

/// <summary>
/// The SPF check of the MAIL FROM identity: its domain and result. The HELO identity must not be given here: HELO
/// scope never aligns (RFC 7489 4.2). Null domain (a null reverse-path with no HELO fallback) never aligns.
/// </summary>
public sealed record SpfInput(string? Domain, AuthVerdict Result);

/// <summary>One DKIM signature: its d= domain and whether it verified.</summary>
public sealed record DkimInput(string Domain, AuthVerdict Result);

/// <summary>Everything DMARC evaluates for one message.</summary>
public sealed record DmarcInput(AuthorDomainResult Author, SpfInput Spf, IReadOnlyList<DkimInput> Dkim);
