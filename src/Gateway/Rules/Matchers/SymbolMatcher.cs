using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>
/// A symbol added by a filter (<c>HELO_BARE_IP</c>, <c>DNSBL_ZEN_SPAMHAUS_ORG</c>, <c>SPF_FAIL</c>...): any of the
/// given names or a pattern over the names. It sees the symbols of the filters that ran before the rule engine in
/// this phase and in the phases before it (connect and HELO included); not those of rules of the same phase.
/// </summary>
public sealed class SymbolMatcher(IReadOnlyList<TextPattern> patterns) : IMatcher
{
    public Phase Needs => Phase.Connect;

    public MatchResult Match(FilterContext context)
    {
        foreach (var symbol in Visible(context))
        {
            foreach (var pattern in patterns)
            {
                if (pattern.Match(symbol.Name) is not null)
                    return MatchResult.Yes($"symbol {symbol}");
            }
        }
        return MatchResult.No;
    }

    private static IEnumerable<Symbol> Visible(FilterContext context)
    {
        var session = context.Session;
        return context.Phase switch
        {
            Phase.Connect => session.ConnectEvaluation.Symbols,
            Phase.Helo => session.ConnectEvaluation.Symbols.Concat(session.HeloEvaluation.Symbols),
            _ => session.Evaluation.Symbols,
        };
    }
}
