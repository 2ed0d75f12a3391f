namespace Gateway.Authentication.Dkim;

/// <summary>
/// What the key query gave: a usable key, or the result the signature gets without one (permerror for a missing,
/// revoked, malformed or inapplicable key; temperror when DNS failed; None when a key was found), with the queries
/// made.
/// </summary>
public sealed record DkimKeyLookup(DkimKeyRecord? Key, DkimResult Failure, string? Reason, IReadOnlyList<string> Trace)
{
    public bool Found => Key is not null;
}
