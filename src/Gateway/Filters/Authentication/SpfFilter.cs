using Gateway.Authentication.Spf;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Filters.Authentication;

/// <summary>
/// SPF for the MAIL FROM identity (and the HELO identity with <c>helo: true</c>): a scored symbol per result, and
/// with <c>reject_fail: true</c> a fail is refused (550 5.7.23, RFC 7372) and a temperror deferred (451 4.4.3), since
/// the decision then depends on the result. Without it, nothing here refuses mail: DMARC decides.
/// </summary>
public sealed class SpfFilter(string name, IReadOnlyDictionary<string, double> scores, bool rejectFail, bool helo) : IFilter
{
    private static readonly IReadOnlySet<Phase> Served = new HashSet<Phase> { Phase.MailFrom, Phase.RcptTo, Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double>
    {
        ["fail"] = 3, ["softfail"] = 1, ["permerror"] = 1, ["pass"] = 0, ["neutral"] = 0, ["none"] = 0, ["temperror"] = 0,
    };

    public IReadOnlySet<Phase> Phases => Served;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var auth = context.Session.Authentication;
        var outcome = await auth.SpfAsync(cancellationToken).ConfigureAwait(false);
        var symbols = new List<Symbol> { SymbolOf("SPF", outcome) };
        if (helo && await auth.HeloSpfAsync(cancellationToken).ConfigureAwait(false) is { } heloOutcome)
            symbols.Add(SymbolOf("SPF_HELO", heloOutcome));
        if (rejectFail && outcome.Result == SpfResult.Fail)
        {
            var why = outcome.Explanation is { Length: > 0 } exp ? UpstreamReply.Clean(exp) : $"{context.Session.Remote.Address} is not allowed to send for {outcome.Domain}";
            if (why.Length > 200)
                why = why[..200];
            return new Verdict(VerdictKind.Reject, name, new Reply(550, "5.7.23", $"SPF check failed: {why} ({name})"), symbols);
        }
        if (rejectFail && outcome.Result == SpfResult.TempError)
            return new Verdict(VerdictKind.Tempfail, name, new Reply(451, "4.4.3", $"SPF check of {outcome.Domain} failed temporarily (DNS), try again later ({name})"), symbols);
        return new Verdict(VerdictKind.Continue, name, Symbols: symbols);
    }

    private Symbol SymbolOf(string method, SpfOutcome outcome)
    {
        var result = outcome.Result.ToString().ToLowerInvariant();
        var detail = outcome.Domain + (outcome.Mechanism is { } m ? $": {m}" : outcome.Problem is { } p ? $": {p}" : "");
        return new Symbol(ResultScores.Symbol(method, result), scores[result], detail);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var rejectFail = options.Bool("reject_fail", false);
        var helo = options.Bool("helo", true);
        var scores = ResultScores.Read(options, DefaultScores, Enum.GetNames<SpfResult>().Select(n => n.ToLowerInvariant()));
        return new SpfFilter(name, scores, rejectFail, helo);
    }
}
