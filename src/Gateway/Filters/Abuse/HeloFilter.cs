using Gateway.Configuration;
using Gateway.Dns;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters.Abuse;

/// <summary>
/// Checks the client's HELO/EHLO name (<see cref="HeloChecks"/>), and that a name that could be a host exists in DNS
/// (<c>HELO_NO_RESOLVE</c>: NXDOMAIN only; a DNS failure is not "does not resolve": it is skipped and logged). Each
/// finding is a scored symbol; those listed in <c>reject</c> refuse with <c>550 5.7.1 Helo command rejected</c>.
/// </summary>
public sealed class HeloFilter(string name, IReadOnlyDictionary<string, double> scores, IReadOnlySet<string> reject) : IFilter
{
    private static readonly IReadOnlySet<Phase> Served = new HashSet<Phase> { Phase.Helo, Phase.MailFrom, Phase.RcptTo, Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double>
    {
        [HeloChecks.Invalid] = 2, [HeloChecks.BareIp] = 2, [HeloChecks.NotFqdn] = 1, [HeloChecks.Ours] = 3,
        [HeloChecks.LiteralMismatch] = 0.5, [HeloChecks.NoResolve] = 1,
    };

    public IReadOnlySet<Phase> Phases => Served;

    public bool RunsInline => true;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        var trusted = session.Config.Relay.Networks.Any(n => n.Contains(session.Remote.Address));
        var (findings, resolve) = HeloChecks.Check(session.Helo, session.Remote.Address, session.Local.Address,
            [session.Config.Server.Hostname, .. session.Config.Relay.Domains], trusted);
        var symbols = findings.Select(f => new Symbol(f.Symbol, scores[f.Symbol], f.Detail)).ToList();
        if (resolve is not null)
        {
            // One query per HELO name and session (a filter at RCPT runs once per recipient).
            var answer = await session.Once((this, resolve), () => session.Dns.AAsync(resolve, CancellationToken.None).AsTask())
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            if (answer.Status == DnsStatus.NxDomain)
                symbols.Add(new Symbol(HeloChecks.NoResolve, scores[HeloChecks.NoResolve], $"'{HeloChecks.Show(resolve)}' does not exist in DNS"));
            else if (answer.IsFailure)
            {
                session.Pipeline.Logger.LogWarning("session {Session}: {Filter}: lookup of HELO {Helo} skipped: {Error}", session.Id, name, HeloChecks.Show(resolve), answer.Error);
                symbols.Add(new Symbol("HELO_SKIPPED", 0, $"skipped: DNS failure: {answer.Error}"));
            }
        }
        if (symbols.FirstOrDefault(s => reject.Contains(s.Name)) is { } refusing)
            return new Verdict(VerdictKind.Reject, name, new Reply(550, "5.7.1", $"Helo command rejected: {refusing.Detail} ({name})"), symbols);
        return new Verdict(VerdictKind.Continue, name, Symbols: symbols);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var scores = ScoreOptions.Read(options, DefaultScores);
        var reject = ScoreOptions.ReadSet(options, "reject", DefaultScores.Keys);
        return new HeloFilter(name, scores, reject);
    }
}
