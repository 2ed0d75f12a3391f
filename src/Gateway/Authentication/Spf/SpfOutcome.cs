namespace Gateway.Authentication.Spf;

/// <summary>
/// What one SPF check concluded. <see cref="Identity"/> is "mailfrom" or "helo"; <see cref="Mechanism"/> is the
/// mechanism that matched, as written in the record (null when none did); <see cref="Explanation"/> is set for a fail
/// only; <see cref="Problem"/> says why a permerror, temperror or none came about; <see cref="Trace"/> holds one line per
/// DNS query and its answer, in the order the check used them.
/// </summary>
public sealed record SpfOutcome(
    SpfResult Result,
    string Identity,
    string Domain,
    string Sender,
    string? Mechanism,
    string? Explanation,
    string? Problem,
    int Lookups,
    int VoidLookups,
    IReadOnlyList<string> Trace);
