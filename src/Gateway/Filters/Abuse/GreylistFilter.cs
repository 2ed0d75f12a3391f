using Gateway.Authentication.Spf;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.State;

namespace Gateway.Filters.Abuse;

/// <summary>
/// Greylisting: the first attempt of a triplet (client network, sender, recipient) is deferred with 451 4.7.1; a
/// retry after <c>delay</c> and within <c>retry_window</c> passes, and the triplet then passes at once until it has
/// not been seen for <c>expiry</c>. Real MTAs retry, most spam software does not. Skipped for clients a DNSWL filter
/// listed (a symbol starting with <c>DNSWL</c>), for the allow lists, and for senders whose SPF passes. At RCPT each
/// recipient is decided alone; at the end of DATA (where a valid DKIM signature of the sender's domain exempts it
/// too) the message waits if any of its triplets does.
/// </summary>
public sealed class GreylistFilter(string name, GreylistTimes times, int networkV4, int networkV6, RateLimitAllowList allow,
    bool skipSpfPass, bool skipDkimPass, bool skipDnswl, OnBackendError? onBackendError) : IFilter
{
    private static readonly IReadOnlySet<Phase> Served = new HashSet<Phase> { Phase.RcptTo, Phase.Data };

    public IReadOnlySet<Phase> Phases => Served;

    public bool RunsInline => true;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        if (session.State is not { } state)
            return StateVerdicts.Offline(name);
        if (allow.Match(session.Remote.Address, session.Sender) is { } allowed)
            return Exempt($"{allowed} allow-listed");
        if (skipDnswl && session.Evaluation.Symbols.FirstOrDefault(s => s.Name.StartsWith("DNSWL", StringComparison.OrdinalIgnoreCase)) is { } listed)
            return Exempt($"client listed ({listed.Name})");
        if (skipSpfPass)
        {
            var spf = await session.Authentication.SpfAsync(cancellationToken).ConfigureAwait(false);
            if (spf.Result == SpfResult.Pass)
                return Exempt($"SPF pass for {spf.Domain}");
        }
        // At the end of DATA the signatures are known too: a valid one of the sender's domain vouches for it.
        if (skipDkimPass && context.Phase == Phase.Data && session.Sender is { IsNull: false } signed)
        {
            var domain = signed.Domain.ToLowerInvariant();
            var signatures = await session.Authentication.DkimAsync(cancellationToken).ConfigureAwait(false);
            if (signatures.FirstOrDefault(d => d.Result == Gateway.Authentication.Dkim.DkimResult.Pass && d.Domain is { } dd
                    && (domain == dd.ToLowerInvariant() || domain.EndsWith("." + dd.ToLowerInvariant(), StringComparison.Ordinal))) is { } pass)
                return Exempt($"DKIM pass for {pass.Domain}");
        }

        var network = StateKey.Network(session.Remote.Address, networkV4, networkV6);
        var sender = session.Sender is { IsNull: false } s ? s.Address.ToLowerInvariant() : "<>";
        // At RCPT the recipient being decided; at the end of DATA every recipient, and the message waits if any does.
        var recipients = context.Phase == Phase.Data ? session.Recipients.Select(r => r.Address.ToLowerInvariant()).Distinct().ToList()
            : [context.Recipient?.Address.ToLowerInvariant() ?? ""];
        GreylistDecision decision = new(GreylistStatus.Known, TimeSpan.Zero);
        var triplet = "";
        foreach (var recipient in recipients)
        {
            GreylistDecision one;
            try
            {
                one = await state.GreylistAsync(StateKey.Join("gl", [network, sender, recipient]), times, cancellationToken).ConfigureAwait(false);
            }
            catch (StateUnavailableException e)
            {
                return StateVerdicts.Unavailable(name, onBackendError ?? session.Config.State.OnBackendError, e);
            }
            var waits = one.Status is GreylistStatus.New or GreylistStatus.TooEarly;
            if (triplet.Length == 0 || waits && (decision.Status is GreylistStatus.Known or GreylistStatus.Passed || one.RetryAfter > decision.RetryAfter))
            {
                decision = one;
                triplet = $"{network} <{sender}> <{recipient}>";
            }
        }
        return decision.Status switch
        {
            GreylistStatus.Passed => Verdict.Continue(name, new Symbol("GREYLIST_PASS", 0, $"{triplet}: retried after the delay")),
            GreylistStatus.Known => Verdict.Continue(name, new Symbol("GREYLIST_PASS", 0, $"{triplet}: known")),
            _ => new Verdict(VerdictKind.Tempfail, name,
                new Reply(451, "4.7.1", $"Greylisted, try again in {StateVerdicts.Seconds(decision.RetryAfter)} ({name})"),
                [new Symbol("GREYLIST", 0, $"{triplet}: {(decision.Status == GreylistStatus.New ? "first attempt" : "retry too early")}")]),
        };
    }

    private Verdict Exempt(string why) => Verdict.Continue(name, new Symbol("GREYLIST_SKIPPED", 0, why));

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var d = GreylistTimes.Default;
        var times = new GreylistTimes(options.Duration("delay", d.Delay), options.Duration("retry_window", d.RetryWindow), options.Duration("expiry", d.Expiry));
        if (times.RetryWindow <= times.Delay)
            options.Error(options.Get("retry_window") ?? options.Get("delay") ?? options.Node, "'retry_window' must be longer than 'delay'");
        if (times.Expiry > TimeSpan.FromDays(365) || times.RetryWindow > TimeSpan.FromDays(365))
            options.Error(options.Get("expiry") ?? options.Get("retry_window") ?? options.Node, "'retry_window' and 'expiry' must be at most 365d");
        var v4 = options.Int("network_v4", 24, 8, 32);
        var v6 = options.Int("network_v6", 64, 16, 128);
        var allow = RateLimitAllowList.Read(options);
        var skipSpf = options.Bool("skip_spf_pass", true);
        var skipDkim = options.Bool("skip_dkim_pass", true);
        var skipDnswl = options.Bool("skip_dnswl", true);
        OnBackendError? onBackendError = options.Get("on_backend_error") is null ? null : options.Enum("on_backend_error", OnBackendError.Allow);
        return new GreylistFilter(name, times, v4, v6, allow, skipSpf, skipDkim, skipDnswl, onBackendError);
    }
}
