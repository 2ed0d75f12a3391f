using Gateway.Filters.Content;
using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>
/// A look-alike of a protected domain, as the <c>lookalike</c> filter found it, in the given places (<c>from</c>,
/// <c>reply_to</c>, <c>link</c>): the same as a <c>symbol</c> condition on <c>LOOKALIKE_FROM</c>... at the data phase,
/// in the words a rule file reads best. The filter must run in the data phase before the rule engine.
/// </summary>
public sealed class LookalikeMatcher(IReadOnlyList<string> symbols) : IMatcher
{
    public static readonly IReadOnlyDictionary<string, string> Places = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["from"] = LookalikeFilter.From, ["reply_to"] = LookalikeFilter.ReplyTo, ["link"] = LookalikeFilter.Link,
    };

    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context) => DetectionSymbols.Find(context, symbols);
}

/// <summary>HTML smuggling, as the <c>html_smuggling</c> filter found it (which must run before the rule engine).</summary>
public sealed class HtmlSmugglingMatcher : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context) => DetectionSymbols.Find(context, [HtmlSmugglingFilter.Symbol]);
}

internal static class DetectionSymbols
{
    /// <summary>The first of the symbols the data filters added, its detail as the evidence.</summary>
    public static MatchResult Find(FilterContext context, IReadOnlyList<string> names)
    {
        foreach (var symbol in context.Session.Evaluation.Symbols)
        {
            if (names.Contains(symbol.Name))
                return MatchResult.Yes(symbol.Detail ?? symbol.Name);
        }
        return MatchResult.No;
    }
}
