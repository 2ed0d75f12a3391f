using Gateway.Pipeline;
using Gateway.Rules;
using Gateway.Rules.Matchers;

namespace Gateway.Filters;

/// <summary>
/// The rule engine as a filter: at each phase it evaluates, in order, the rules of that phase. Every matching
/// rule adds its symbol (rule id, score, evidence); the first with an action decides. A rule in monitor mode
/// only adds a symbol saying what it would have done.
/// </summary>
public sealed class RulesFilter(RuleSet rules) : IFilter
{
    private static readonly IReadOnlySet<Phase> AllPhases = new HashSet<Phase>(Enum.GetValues<Phase>());

    public IReadOnlySet<Phase> Phases => AllPhases;

    public RuleSet Rules => rules;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var lookups = rules.RequiresAt(context.Phase);
        var prepared = context.PrepareAsync(lookups, cancellationToken);
        if (lookups.HasFlag(Lookups.Matcher))
            prepared = Task.WhenAll([prepared, .. rules.PreparingAt(context.Phase).Select(m => m.PrepareAsync(context, cancellationToken))]);
        await prepared.ConfigureAwait(false);
        var verdict = Evaluate(context, cancellationToken);
        // Encrypted archives are named in the verdict whatever the rules decide (the shipped ones refuse them).
        if (context.ViewIfParsed is { EncryptedArchives.Count: > 0 } encrypted)
            verdict = verdict with { Symbols = [.. verdict.Symbols, new Symbol("ENCRYPTED_ARCHIVE", 0, string.Join("; ", encrypted.EncryptedArchives.Take(5)))] };
        // A message the content rules could not inspect whole is never passed as clean.
        if (context.ViewIfParsed is { Violations.Count: > 0 } view && verdict.Kind is not (VerdictKind.Reject or VerdictKind.Tempfail or VerdictKind.Disconnect))
        {
            var symbol = new Symbol("MIME_LIMIT", 0, string.Join("; ", view.Violations));
            return new Verdict(VerdictKind.Reject, "mime-limits",
                new Reply(554, "5.7.0", "Message refused: it cannot be inspected within the limits (" + Forwarding.UpstreamReply.Clean(view.Violations[0]) + ")"),
                [.. verdict.Symbols, symbol]);
        }
        return verdict;
    }

    private Verdict Evaluate(FilterContext context, CancellationToken cancellationToken)
    {
        var symbols = new List<Symbol>();
        foreach (var rule in rules.Rules)
        {
            if (rule.Phase != context.Phase)
                continue;
            cancellationToken.ThrowIfCancellationRequested();
            MatchResult match;
            try
            {
                match = rule.Match.Match(context);
            }
            catch (Rules.Matchers.LookupFailedException e)
            {
                // Neither true nor false: a rule that would refuse waits for DNS to come back; any other is skipped.
                context.RuleTrace?.Add(new RuleTrace(context.Phase, rule.Id, false, "temperror: " + e.Message,
                    rule.Mode.ToString().ToLowerInvariant(), rule.Action.ToString().ToLowerInvariant(), rule.Score));
                if (rule.Mode == RuleMode.Enforce && rule.Action is not (RuleAction.None or RuleAction.Accept))
                    return new Verdict(VerdictKind.Tempfail, $"rule:{rule.Id}", new Reply(451, "4.4.3", $"Temporary DNS failure, try again later (rule:{rule.Id})"), [.. symbols]);
                symbols.Add(new Symbol(rule.Id, 0, "skipped, temperror: " + e.Message));
                continue;
            }
            context.RuleTrace?.Add(new RuleTrace(context.Phase, rule.Id, match.Matched, match.Evidence,
                rule.Mode.ToString().ToLowerInvariant(), rule.Action.ToString().ToLowerInvariant(), rule.Score));
            if (!match.Matched)
                continue;
            Admin.GatewayMetrics.RuleMatched(rule.Id, rule.Mode);
            if (rule.Mode == RuleMode.Monitor)
            {
                var would = rule.Action == RuleAction.None ? $"score {rule.Score:0.##}" : rule.Action.ToString().ToLowerInvariant();
                symbols.Add(new Symbol(rule.Id, 0, $"monitor: would {would}: {match.Evidence}"));
                continue;
            }
            symbols.Add(new Symbol(rule.Id, rule.Score, match.Evidence));
            var source = $"rule:{rule.Id}";
            switch (rule.Action)
            {
                case RuleAction.None:
                    continue;
                case RuleAction.Accept:
                    return new Verdict(VerdictKind.Accept, source, Symbols: symbols);
                default:
                    var kind = rule.Action switch
                    {
                        RuleAction.Reject => VerdictKind.Reject,
                        RuleAction.Tempfail => VerdictKind.Tempfail,
                        RuleAction.Discard => VerdictKind.Discard,
                        RuleAction.Quarantine => VerdictKind.Quarantine,
                        _ => VerdictKind.Disconnect,
                    };
                    var verdict = new Verdict(kind, source, rule.Reply, symbols);
                    return verdict with { Reply = verdict.ReplyOrDefault() };
            }
        }
        return new Verdict(VerdictKind.Continue, "rules", Symbols: symbols);
    }
}
