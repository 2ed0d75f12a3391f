using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Smtp;

/// <summary>A configuration and the filters built from it: what a session runs with from start to end.</summary>
public sealed record GatewaySnapshot(GatewayConfig Config, FilterPipeline Pipeline)
{
    public static GatewaySnapshot Build(GatewayConfig config, ILogger logger) => new(config, new FilterPipeline(
        config.Pipeline.Phases.ToDictionary(
            p => p.Key,
            p => (IReadOnlyList<FilterSlot>)[.. p.Value.Select(d => new FilterSlot(d.Name, d.Filter, d.OnError, d.Budget))]),
        logger));
}
