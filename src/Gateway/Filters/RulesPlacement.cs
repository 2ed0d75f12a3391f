using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Filters;

/// <summary>
/// <c>{ type: rules }</c> in a phase's filter list: where the rule engine runs in that phase (by default it runs
/// last). Only a marker: the snapshot puts the rule engine in its place.
/// </summary>
public sealed class RulesPlacement : IFilter
{
    private static readonly IReadOnlySet<Phase> AllPhases = new HashSet<Phase>(Enum.GetValues<Phase>());

    public IReadOnlySet<Phase> Phases => AllPhases;

    public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the rules marker is replaced by the rule engine when the pipeline is built");

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory) => new RulesPlacement();
}
