using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters.Abuse;

/// <summary>
/// Forward-confirmed reverse DNS of the client (the session's one lookup, shared with the <c>rdns</c> rule
/// matcher, started at connect): <c>RDNS_NONE</c> when the address has no PTR name, <c>RDNS_UNCONFIRMED</c> when no
/// PTR name resolves back to it. With <c>reject_missing: true</c> either refuses, as Postfix's
/// <c>reject_unknown_client_hostname</c> (550 5.7.25, RFC 7372). A DNS failure is skipped (0-score symbol, logged).
/// </summary>
public sealed class ReverseDnsFilter(string name, IReadOnlyDictionary<string, double> scores, bool rejectMissing) : IFilter, IStartsAtConnect
{
    private static readonly IReadOnlySet<Phase> AllPhases = new HashSet<Phase>(Enum.GetValues<Phase>());

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double>
    {
        ["RDNS_NONE"] = 1, ["RDNS_UNCONFIRMED"] = 1,
    };

    public IReadOnlySet<Phase> Phases => AllPhases;

    public bool RunsInline => true;

    public void StartAtConnect(SessionState session) => _ = session.ReverseDnsAsync(CancellationToken.None);

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        var result = await session.ReverseDnsAsync(CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Name is not null)
            return Verdict.Continue(name);
        if (result.Failed)
        {
            session.Pipeline.Logger.LogWarning("session {Session}: {Filter}: reverse DNS of {Client} skipped: {Trace}", session.Id, name, session.Remote.Address, string.Join("; ", result.Trace));
            return Verdict.Continue(name, new Symbol("RDNS_SKIPPED", 0, "skipped: DNS failure: " + result.Trace[^1]));
        }
        var symbol = result.PtrNames.Count == 0
            ? new Symbol("RDNS_NONE", scores["RDNS_NONE"], $"{session.Remote.Address} has no PTR record")
            : new Symbol("RDNS_UNCONFIRMED", scores["RDNS_UNCONFIRMED"], $"{string.Join(", ", result.PtrNames.Take(3))} do(es) not resolve to {session.Remote.Address}");
        if (!rejectMissing)
            return Verdict.Continue(name, symbol);
        var reply = new Reply(550, "5.7.25", $"Client [{session.Remote.Address}] has no {(result.PtrNames.Count == 0 ? "" : "confirmed ")}reverse DNS name ({name})");
        return new Verdict(VerdictKind.Reject, name, reply, [symbol]);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var rejectMissing = options.Bool("reject_missing", false);
        var scores = ScoreOptions.Read(options, DefaultScores);
        return new ReverseDnsFilter(name, scores, rejectMissing);
    }
}
