using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>Whether a condition held, and what showed it (the header value, the address...), for logs and explain.</summary>
public readonly record struct MatchResult(bool Matched, string? Evidence)
{
    public static readonly MatchResult No = new(false, null);

    public static MatchResult Yes(string evidence) => new(true, evidence);
}

/// <summary>One condition of a rule.</summary>
public interface IMatcher
{
    /// <summary>The earliest phase at which the data this matcher looks at exists.</summary>
    Phase Needs { get; }

    /// <summary>The DNS-backed data this matcher reads; the rule engine fetches it (side by side) before matching.</summary>
    Lookups Requires => Lookups.None;

    MatchResult Match(FilterContext context);

    /// <summary>
    /// For matchers that require <see cref="Lookups.Matcher"/>: fetches their own data (zone-specific DNS queries)
    /// before matching; the rule engine runs every rule's preparation of a phase side by side. Combinators pass it on.
    /// </summary>
    Task PrepareAsync(FilterContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Data a matcher needs that costs DNS queries.</summary>
[Flags]
public enum Lookups
{
    None = 0,
    ReverseDns = 1,
    Spf = 2,
    Dkim = 4,
    Dmarc = 8,
    Arc = 16,

    /// <summary>The matcher fetches its own data in <see cref="IMatcher.PrepareAsync"/> (a URI block list, say).</summary>
    Matcher = 32,
}

/// <summary>
/// Thrown by a matcher whose data could not be fetched (a DNS failure): the rule can be neither true nor false, so an
/// enforcing rule with an action tempfails (451 4.4.3) and a scoring rule is skipped with a note.
/// </summary>
public sealed class LookupFailedException(string message) : Exception(message);
