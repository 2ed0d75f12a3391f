using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.State;

namespace Gateway.Filters.Abuse;

/// <summary>
/// Limits events per time window, counted in the shared state (<see cref="IStateStore.HitAsync"/>, a sliding window
/// log: never more than <c>limit</c> allowed in any <c>window</c>). What an event is depends on the phase the filter is
/// listed in: a connection at connect, a message at mail_from or data, a recipient at rcpt_to. Over the limit, a
/// connection gets 421 4.7.0 and is closed at once (never delayed to RCPT: the point is to spend nothing more on it),
/// a message or recipient 451 4.7.1, each with the time until the window has room again.
/// </summary>
public sealed class RateLimitFilter(string name, RateLimitKey key, int limit, TimeSpan window, RateLimitAllowList allow, string? replyText, OnBackendError? onBackendError) : IFilter
{
    public IReadOnlySet<Phase> Phases { get; } = key.Phases;

    public bool RunsInline => true;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        if (session.State is not { } state)
            return StateVerdicts.Offline(name);
        if (allow.Match(session.Remote.Address, session.Sender) is { } allowed)
            return Verdict.Continue(name, new Symbol("RATE_LIMIT_ALLOWED", 0, $"{name}: {allowed} allow-listed"));
        var values = key.Values(context);
        LimitDecision decision;
        try
        {
            decision = await state.HitAsync(StateKey.Join("rl", [name, .. values]), limit, window, cancellationToken).ConfigureAwait(false);
        }
        catch (StateUnavailableException e)
        {
            return StateVerdicts.Unavailable(name, onBackendError ?? session.Config.State.OnBackendError, e);
        }
        if (decision.Allowed)
            return Verdict.Continue(name);

        var what = key.Describe(values);
        var symbol = new Symbol("RATE_LIMIT", 0, $"{name}: {what}: {decision.Count} of {limit} per {StateVerdicts.Duration(window)}");
        var retry = StateVerdicts.Seconds(decision.RetryAfter);
        if (context.Phase == Phase.Connect)
            return new Verdict(VerdictKind.Disconnect, name, new Reply(421, "4.7.0", $"{replyText ?? $"Too many connections {what}"}, try again in {retry} ({name})"), [symbol]);
        var events = context.Phase == Phase.RcptTo ? "recipients" : "messages";
        return new Verdict(VerdictKind.Tempfail, name, new Reply(451, "4.7.1", $"{replyText ?? $"Too many {events} {what}"}, try again in {retry} ({name})"), [symbol]);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var parts = new List<RateLimitKeyPart>();
        var keyItems = options.StringList("key");
        foreach (var (value, node) in keyItems)
        {
            if (!RateLimitKey.Names.TryGetValue(value, out var part))
                options.Error(node, $"'key' must be one of {string.Join(" | ", RateLimitKey.Names.Keys)} (or a list of them), not '{value}'");
            else if (parts.Contains(part))
                options.Error(node, $"'key' names '{value}' twice");
            else
                parts.Add(part);
        }
        if (keyItems.Count == 0)
            parts.Add(RateLimitKeyPart.ClientIp);
        var limitNode = options.Get("limit");
        var limit = options.Int("limit", 0, 1, 1_000_000);
        var windowNode = options.Get("window");
        var window = options.Duration("window", TimeSpan.FromHours(1));
        var v4 = options.Int("network_v4", 24, 8, 32);
        var v6 = options.Int("network_v6", 64, 16, 128);
        var allow = RateLimitAllowList.Read(options);
        var (reply, replyNode) = options.StringWithNode("reply");
        if (reply is not null && (reply.Length is 0 or > 200 || reply.Any(c => c is < ' ' or > '~')))
            options.Error(replyNode, "'reply' must be 1 to 200 printable ASCII characters (the code and the retry time are added)");
        OnBackendError? onBackendError = options.Get("on_backend_error") is null ? null : options.Enum("on_backend_error", OnBackendError.Allow);
        if (limitNode is null || windowNode is null)
        {
            options.Error(options.Node, "'rate_limit' needs 'limit' (events allowed) and 'window' (a duration such as 1m or 1h)");
            return null;
        }
        if (window > TimeSpan.FromDays(30))
            options.Error(windowNode, "'window' must be at most 30d");
        return new RateLimitFilter(name, new RateLimitKey(parts, v4, v6), limit, window, allow, reply, onBackendError);
    }
}
