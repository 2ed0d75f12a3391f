using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime;

/// <summary>
/// A configuration and the runtime built from it (filters, upstream, DNS, state): what a session runs with from start
/// to end. The server holds the current snapshot, and each session the one it started with; when a reload has
/// replaced it and its last session has ended, it lets go of its resources, and those no later snapshot shares
/// (<see cref="SharedResource"/>) are disposed.
/// </summary>
public sealed record GatewaySnapshot(GatewayConfig Config, FilterPipeline Pipeline)
{
    private int _holds = 1; // the server's while current, plus one per session
    private int _sessions;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This snapshot's hold on <see cref="Upstream"/> (null: not the snapshot's to dispose, as in explain).</summary>
    public SharedResource? UpstreamHold { get; private init; }

    /// <summary>This snapshot's hold on <see cref="State"/>.</summary>
    public SharedResource? StateHold { get; private init; }

    /// <summary>The resources this snapshot holds.</summary>
    public IEnumerable<SharedResource> Resources => new[] { UpstreamHold, StateHold }.OfType<SharedResource>();

    /// <summary>Sessions running with this snapshot now.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Completes when the snapshot was replaced and its last session ended, its resources let go.</summary>
    public Task Released => _released.Task;

    /// <summary>A session starts with this snapshot; false once it has been released (take the current one again).</summary>
    public bool TryAcquire()
    {
        for (var n = Volatile.Read(ref _holds); n > 0; n = Volatile.Read(ref _holds))
        {
            if (Interlocked.CompareExchange(ref _holds, n + 1, n) == n)
            {
                Interlocked.Increment(ref _sessions);
                return true;
            }
        }
        return false;
    }

    /// <summary>A session that began with <see cref="TryAcquire"/> has ended.</summary>
    public ValueTask EndSessionAsync()
    {
        Interlocked.Decrement(ref _sessions);
        return ReleaseAsync();
    }

    /// <summary>The server's hold ends: a reload replaced this snapshot, or the server stops.</summary>
    internal ValueTask RetireAsync() => ReleaseAsync();

    private async ValueTask ReleaseAsync()
    {
        if (Interlocked.Decrement(ref _holds) != 0)
            return;
        foreach (var resource in Resources)
            await resource.ReleaseAsync().ConfigureAwait(false);
        _released.TrySetResult();
    }

    /// <summary>The SMTP front end's limits, from <see cref="Config"/>.</summary>
    public Transports.Smtp.SmtpLimits Limits { get; init; } = Transports.Smtp.SmtpLimits.From(Config);

    /// <summary>Where this configuration's accepted mail goes.</summary>
    public Forwarding.IUpstream? Upstream { get; init; }

    /// <summary>The DNS this configuration's checks ask (its cache outlives reloads that leave <c>dns</c> alone).</summary>
    public Dns.IDnsResolver Dns { get; init; } = Gateway.Dns.NoDns.Instance;

    /// <summary>Where rate limits and greylisting count (kept across reloads that leave <c>state</c> alone); null offline.</summary>
    public State.IStateStore? State { get; init; }

    /// <param name="upstreamHold">The hold on <paramref name="upstream"/> (a new one, or shared with the snapshot before).</param>
    /// <param name="stateHold">The hold on <paramref name="state"/>.</param>
    /// <remarks>Not to be copied with <c>with</c>: a copy would share this one's count of sessions.</remarks>
    public static GatewaySnapshot Build(GatewayConfig config, ILogger logger, Forwarding.IUpstream? upstream = null, Dns.IDnsResolver? dns = null, State.IStateStore? state = null,
        SharedResource? upstreamHold = null, SharedResource? stateHold = null)
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
        return new(config, new FilterPipeline(phases, logger)) { Upstream = upstream, Dns = dns ?? Gateway.Dns.NoDns.Instance, State = state, UpstreamHold = upstreamHold, StateHold = stateHold };
    }
}
