using Gateway.Authentication.Dmarc;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Filters.Authentication;

/// <summary>What the DMARC filter does with a verdict: what the domain owner asked for, or just note it.</summary>
public enum DmarcAction { Reject, Quarantine, Monitor }

/// <summary>
/// DMARC (RFC 7489): honours the author domain's policy after pct= (<c>on_reject</c>, <c>on_quarantine</c>: reject
/// with 550 5.7.1, quarantine, or monitor), refuses mail whose author cannot be told (no, several or unparseable From;
/// <c>on_bad_from</c>), and defers (451 4.4.3) when DNS trouble keeps the result from being known
/// (<c>on_temperror: tempfail</c>) — a DNS failure never passes and never refuses. A valid ARC chain sealed last by
/// one of <c>authentication.trusted_arc_sealers</c> overrides a failure (mailing lists that alter messages).
/// </summary>
public sealed class DmarcFilter(string name, DmarcAction onReject, DmarcAction onQuarantine, DmarcAction onBadFrom, bool tempfail, IReadOnlyDictionary<string, double> scores) : IFilter
{
    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double> { ["fail"] = 2 };

    public IReadOnlySet<Phase> Phases => DataOnly;

    public bool MayQuarantine => onReject == DmarcAction.Quarantine || onQuarantine == DmarcAction.Quarantine || onBadFrom == DmarcAction.Quarantine;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var auth = context.Session.Authentication;
        var dmarc = await auth.DmarcAsync(cancellationToken).ConfigureAwait(false);
        var result = dmarc.Result.ToString().ToLowerInvariant();
        var domain = UpstreamReply.Clean(dmarc.Domain ?? "");
        var symbol = new Symbol(ResultScores.Symbol("DMARC", result), scores[result],
            $"{domain} policy={dmarc.Policy.ToString().ToLowerInvariant()}" + (dmarc.Reason is { } why ? $": {why}" : ""));

        switch (dmarc.Result)
        {
            case DmarcResult.TempError when tempfail:
                return new Verdict(VerdictKind.Tempfail, name, new Reply(451, "4.4.3", $"DMARC check of {domain} failed temporarily (DNS), try again later ({name})"), [symbol]);
            case DmarcResult.PermError when auth.Author?.Problem is { } problem:
                return Act(onBadFrom, [symbol], new Reply(550, "5.7.1", $"Message refused: the author cannot be told ({problem}) ({name})"));
            case DmarcResult.Fail when dmarc.Disposition != DmarcPolicy.None:
                var (sealer, unknown) = await ArcOverrideAsync(context, cancellationToken).ConfigureAwait(false);
                if (sealer is not null && !unknown)
                    return Verdict.Continue(name, symbol, new Symbol("DMARC_ARC_OVERRIDE", 0, $"valid ARC chain sealed by {sealer}"));
                if (sealer is not null && tempfail)
                    return new Verdict(VerdictKind.Tempfail, name, new Reply(451, "4.4.3", $"ARC check of {UpstreamReply.Clean(sealer)} failed temporarily (DNS), try again later ({name})"), [symbol]);
                var action = dmarc.Disposition == DmarcPolicy.Reject ? onReject : onQuarantine;
                return Act(action, [symbol], new Reply(550, "5.7.1", $"Rejected by the DMARC policy of {domain} ({name})"));
            default:
                return Verdict.Continue(name, symbol);
        }
    }

    private Verdict Act(DmarcAction action, Symbol[] symbols, Reply reply) => action switch
    {
        DmarcAction.Reject => new Verdict(VerdictKind.Reject, name, reply, symbols),
        DmarcAction.Quarantine => new Verdict(VerdictKind.Quarantine, name, Symbols: symbols),
        _ => Verdict.Continue(name, [.. symbols, new Symbol("DMARC_MONITOR", 0, "monitor: would " + (reply.Code >= 500 ? "reject" : "quarantine"))]),
    };

    /// <summary>
    /// The trusted sealer whose ARC chain vouches for the message, if any; <c>Unknown</c> when that chain could not be
    /// validated for a DNS failure (then the decision waits, rather than refusing what a retry might accept).
    /// </summary>
    private static async Task<(string? Sealer, bool Unknown)> ArcOverrideAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var trusted = context.Session.Config.Authentication.TrustedArcSealers;
        if (trusted.Count == 0)
            return (null, false);
        var arc = await context.Session.Authentication.ArcAsync(cancellationToken).ConfigureAwait(false);
        if (arc.Hops.Count == 0 || arc.Hops[^1].SealDomain is not { } sealer || !trusted.Contains(sealer.TrimEnd('.').ToLowerInvariant()))
            return (null, false);
        if (arc.Result == Gateway.Authentication.Arc.ArcResult.Pass)
            return (sealer, false);
        return arc.TemporaryFailure ? (sealer, true) : (null, false);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var onReject = options.Enum("on_reject", DmarcAction.Reject);
        var onQuarantine = options.Enum("on_quarantine", DmarcAction.Quarantine);
        var onBadFrom = options.Enum("on_bad_from", DmarcAction.Reject);
        var (temperror, node) = options.StringWithNode("on_temperror");
        if (temperror is not (null or "tempfail" or "continue"))
            options.Error(node, $"'on_temperror' must be tempfail | continue, not '{temperror}'");
        var scores = ResultScores.Read(options, DefaultScores, Enum.GetNames<DmarcResult>().Select(n => n.ToLowerInvariant()));
        return new DmarcFilter(name, onReject, onQuarantine, onBadFrom, temperror != "continue", scores);
    }
}
