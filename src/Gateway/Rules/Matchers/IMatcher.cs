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

    MatchResult Match(FilterContext context);
}
