using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime;

/// <summary>A configuration and the filters built from it: what a session runs with from start to end.</summary>
public sealed record GatewaySnapshot(GatewayConfig Config, FilterPipeline Pipeline)
{
    /// <summary>The SMTP front end's limits, from <see cref="Config"/>.</summary>
    public Transports.Smtp.SmtpLimits Limits { get; init; } = Transports.Smtp.SmtpLimits.From(Config);

    /// <summary>Where this configuration's accepted mail goes.</summary>
    public Forwarding.IUpstream? Upstream { get; init; }

    /// <summary>The DNS this configuration's checks ask (its cache outlives reloads that leave <c>dns</c> alone).</summary>
    public Dns.IDnsResolver Dns { get; init; } = Gateway.Dns.NoDns.Instance;

    /// <summary>Where rate limits and greylisting count (kept across reloads that leave <c>state</c> alone); null offline.</summary>
    public State.IStateStore? State { get; init; }

    public static GatewaySnapshot Build(GatewayConfig config, ILogger logger, Forwarding.IUpstream? upstream = null, Dns.IDnsResolver? dns = null, State.IStateStore? state = null)
    {
        var phases = new Dictionary<Phase, IReadOnlyList<FilterSlot>>();
        var rules = new Filters.RulesFilter(config.Rules.Set);
        foreach (var phase in Enum.GetValues<Phase>())
        {
            var slots = new List<FilterSlot>();
            var rulesSlot = config.Rules.Set.Has(phase) ? new FilterSlot("rules", rules, config.Rules.OnError, config.Rules.Budget) : null;
            foreach (var d in config.Pipeline.Phases.TryGetValue(phase, out var defined) ? defined : [])
            {
                // { type: rules } says where the rule engine runs in this phase; without it, it runs last.
                if (d.Filter is Filters.RulesPlacement)
                {
                    if (rulesSlot is not null)
                        slots.Add(rulesSlot);
                    rulesSlot = null;
                }
                else
                    slots.Add(new FilterSlot(d.Name, d.Filter, d.OnError, d.Budget));
            }
            if (rulesSlot is not null)
                slots.Add(rulesSlot);
            if (slots.Count > 0)
                phases[phase] = slots;
        }
        return new(config, new FilterPipeline(phases, logger)) { Upstream = upstream, Dns = dns ?? Gateway.Dns.NoDns.Instance, State = state };
    }
}
