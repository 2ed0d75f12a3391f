namespace Gateway.Authentication.Spf;

/// <summary>
/// What one check_host() call gave: the result, the mechanism that matched, and the exp= of the record that decided
/// with that record's domain (the explanation is looked up only for the final result, 6.2).
/// </summary>
internal sealed record SpfHostResult(SpfResult Result, string? Mechanism, SpfMacroString? Explanation, string Domain);
