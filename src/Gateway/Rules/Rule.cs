using Gateway.Pipeline;
using Gateway.Rules.Matchers;

namespace Gateway.Rules;

public enum RuleMode
{
    /// <summary>The rule acts.</summary>
    Enforce,

    /// <summary>The rule only logs and counts what it would have done.</summary>
    Monitor,
}

public enum RuleAction { None, Accept, Reject, Tempfail, Discard, Disconnect, Quarantine }

/// <summary>One rule from a rule file: a condition and what follows when it holds.</summary>
public sealed record Rule(
    string Id,
    string Description,
    Phase Phase,
    RuleMode Mode,
    IMatcher Match,
    RuleAction Action,
    Reply? Reply,
    double Score,
    string File,
    long Line);

/// <summary>The rules of all rule files, in file and then rule order, with a short hash for the logs.</summary>
public sealed class RuleSet(IReadOnlyList<Rule> rules, string hash)
{
    public static readonly RuleSet Empty = new([], "none");

    public IReadOnlyList<Rule> Rules { get; } = rules;

    /// <summary>The first 12 hex digits of the SHA-256 of the rule files: which rules a log line was decided by.</summary>
    public string Hash { get; } = hash;

    public bool Has(Phase phase) => Rules.Any(r => r.Phase == phase);

    /// <summary>What the rules of a phase need fetched before they match.</summary>
    public Lookups RequiresAt(Phase phase) => _requires.TryGetValue(phase, out var lookups) ? lookups : Lookups.None;

    /// <summary>The rules of a phase whose matchers fetch their own data (<see cref="Lookups.Matcher"/>).</summary>
    public IEnumerable<IMatcher> PreparingAt(Phase phase) =>
        Rules.Where(r => r.Phase == phase && r.Match.Requires.HasFlag(Lookups.Matcher)).Select(r => r.Match);

    private readonly Dictionary<Phase, Lookups> _requires = rules.GroupBy(r => r.Phase)
        .ToDictionary(g => g.Key, g => g.Aggregate(Lookups.None, (all, r) => all | r.Match.Requires));
}
