using Gateway.Authentication.Dkim;
using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Filters.Authentication;

/// <summary>
/// DKIM: a scored symbol per signature (DKIM_PASS, DKIM_FAIL...; DKIM_NONE for an unsigned message). A broken
/// signature alone refuses nothing: a message may be altered in transit, and DMARC weighs DKIM with SPF.
/// </summary>
public sealed class DkimFilter(string name, IReadOnlyDictionary<string, double> scores) : IFilter
{
    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double>
    {
        ["fail"] = 1, ["permerror"] = 0.5,
    };

    public IReadOnlySet<Phase> Phases => DataOnly;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var signatures = await context.Session.Authentication.DkimAsync(cancellationToken).ConfigureAwait(false);
        if (signatures.Count == 0)
            return Verdict.Continue(name, new Symbol("DKIM_NONE", scores["none"]));
        var symbols = signatures.Select(s =>
        {
            var result = s.Result.ToString().ToLowerInvariant();
            return new Symbol(ResultScores.Symbol("DKIM", result), scores[result], $"d={s.Domain} s={s.Selector}" + (s.Reason is { } r ? $": {r}" : ""));
        }).ToArray();
        return Verdict.Continue(name, symbols);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory) =>
        new DkimFilter(name, ResultScores.Read(options, DefaultScores, Enum.GetNames<DkimResult>().Select(n => n.ToLowerInvariant())));
}
