using Gateway.Authentication.Arc;
using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Filters.Authentication;

/// <summary>ARC chain validation as a scored symbol (ARC_PASS, ARC_FAIL, ARC_NONE) naming the newest sealer.</summary>
public sealed class ArcFilter(string name, IReadOnlyDictionary<string, double> scores) : IFilter
{
    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public IReadOnlySet<Phase> Phases => DataOnly;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var arc = await context.Session.Authentication.ArcAsync(cancellationToken).ConfigureAwait(false);
        var result = arc.Result.ToString().ToLowerInvariant();
        var detail = arc.Hops.Count > 0 ? $"i={arc.Hops[^1].Instance} d={arc.Hops[^1].SealDomain}" + (arc.Reason is { } r ? $": {r}" : "") : arc.Reason;
        return Verdict.Continue(name, new Symbol(ResultScores.Symbol("ARC", result), scores[result], detail));
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory) =>
        new ArcFilter(name, ResultScores.Read(options, new Dictionary<string, double>(), Enum.GetNames<ArcResult>().Select(n => n.ToLowerInvariant())));
}
