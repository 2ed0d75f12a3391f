using System.Globalization;
using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;
using YamlDotNet.RepresentationModel;

namespace Gateway.Filters.Abuse;

/// <summary>
/// DNS block and allow lists, combined as Postfix's postscreen does: every list the client is in adds its weight
/// (allow lists a negative one), and a sum reaching <c>threshold</c> refuses the client
/// (<c>554 5.7.1 Service unavailable; client [IP] blocked using ZONE</c>) or, with <c>action: score</c>, only scores.
/// The lookups of all lists start together when the client connects, wherever the filter is placed, and the phase
/// that decides awaits them. A list that fails (timeout, SERVFAIL, a refusal code) is skipped and logged, never a
/// refusal.
/// </summary>
public sealed class DnsblFilter(string name, IReadOnlyList<DnsblZone> zones, double threshold, bool reject, TimeSpan? timeout, TimeProvider time) : IFilter, IStartsAtConnect
{
    private static readonly IReadOnlySet<Phase> AllPhases = new HashSet<Phase>(Enum.GetValues<Phase>());

    /// <summary>The 0-score symbol of a list that was skipped (not DNSWL_: a failed allow list must not allow).</summary>
    public const string SkippedSymbol = "DNSLIST_SKIPPED";

    public IReadOnlySet<Phase> Phases => AllPhases;

    public bool RunsInline => true;

    public IReadOnlyList<DnsblZone> Zones => zones;

    public void StartAtConnect(SessionState session) => Lookup(session);

    /// <summary>The session's lookups for its current client address, started on first use and shared by every phase.</summary>
    private Task<IReadOnlyList<DnsblAnswer>> Lookup(SessionState session)
    {
        var client = session.Remote.Address;
        return session.Once((this, client), () => LogFailuresAsync(session,
            DnsblLookup.LookupAsync(session.Dns, client, zones, timeout, time, CancellationToken.None)));
    }

    private async Task<IReadOnlyList<DnsblAnswer>> LogFailuresAsync(SessionState session, Task<IReadOnlyList<DnsblAnswer>> lookup)
    {
        var answers = await lookup.ConfigureAwait(false);
        foreach (var failed in answers.Where(a => a.Status == DnsblStatus.Failed))
            session.Pipeline.Logger.LogWarning("session {Session}: {Filter}: {Zone} skipped for {Client}: {Error}", session.Id, name, failed.Zone.Zone, session.Remote.Address, failed.Error);
        return answers;
    }

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var answers = await Lookup(context.Session).WaitAsync(cancellationToken).ConfigureAwait(false);
        var symbols = new List<Symbol>();
        var sum = 0.0;
        DnsblZone? worst = null;
        foreach (var answer in answers)
        {
            switch (answer.Status)
            {
                case DnsblStatus.Listed:
                    var zone = answer.Zone;
                    symbols.Add(new Symbol(zone.Symbol, zone.Score, string.Join(", ", answer.Codes)));
                    sum += zone.Weight;
                    if (zone.Type == DnsListType.Block && (worst is null || zone.Weight > worst.Weight))
                        worst = zone;
                    break;
                case DnsblStatus.Failed:
                    symbols.Add(new Symbol(SkippedSymbol, 0, $"{answer.Zone.Zone} skipped: DNS failure: {answer.Error}"));
                    break;
            }
        }
        if (reject && worst is not null && sum >= threshold)
        {
            var reply = new Reply(554, "5.7.1", $"Service unavailable; client [{context.Session.Remote.Address}] blocked using {worst.Zone} ({name})");
            return new Verdict(VerdictKind.Reject, name, reply, symbols);
        }
        return new Verdict(VerdictKind.Continue, name, Symbols: symbols);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var errorsBefore = options.Sink.Errors.Count;
        var threshold = options.Number("threshold") ?? 1;
        var (action, actionNode) = options.StringWithNode("action");
        TimeSpan? timeout = options.Get("timeout") is null ? null : options.Duration("timeout", TimeSpan.FromSeconds(10));
        var zonesNode = options.Get("zones");
        if (action is not (null or "reject" or "score"))
            options.Error(actionNode, $"'action' must be reject or score, not '{action}'");
        if (threshold <= 0)
            options.Error(options.Get("threshold"), "'threshold' must be above 0 (allow lists have negative weights)");
        if (timeout is { } t && (t < TimeSpan.FromMilliseconds(10) || t > TimeSpan.FromMinutes(1)))
            options.Error(options.Get("timeout"), "'timeout' must be between 10ms and 1m");
        if (zonesNode is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            options.Error(zonesNode ?? options.Node, "'dnsbl' needs 'zones': a list of { zone: NAME, weight: N, codes: [...], type: block | allow }");
            return null;
        }
        var zones = new List<DnsblZone>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (ReadZone(YamlMappingReader.For(sequence.Children[i], $"{options.Path}.zones[{i}]", options.Sink)) is { } zone)
                zones.Add(zone);
        }
        foreach (var duplicate in zones.GroupBy(z => z.Zone).Where(g => g.Count() > 1))
            options.Error(zonesNode, $"zone '{duplicate.Key}' is listed twice");
        if (options.Sink.Errors.Count > errorsBefore)
            return null;
        return new DnsblFilter(name, zones, threshold, action != "score", timeout, TimeProvider.System);
    }

    private static DnsblZone? ReadZone(YamlMappingReader r)
    {
        var (zone, zoneNode) = r.StringWithNode("zone");
        var type = r.Enum("type", DnsListType.Block);
        var weight = r.Number("weight") ?? (type == DnsListType.Allow ? -1 : 1);
        var codes = r.StringList("codes");
        var (symbol, symbolNode) = r.StringWithNode("symbol");
        var score = r.Number("score");
        r.RejectUnknownKeys();
        if (zone is null || !Dns.DnsNames.IsValidQueryName(zone) || zone.Contains(' '))
        {
            r.Error(zoneNode ?? r.Node, "each zone needs 'zone', a DNS name such as zen.spamhaus.org");
            return null;
        }
        if (type == DnsListType.Block && weight <= 0 || type == DnsListType.Allow && weight >= 0)
        {
            r.Error(r.Get("weight") ?? r.Node, $"a {(type == DnsListType.Block ? "block list's weight must be above" : "allow list's weight must be below")} 0, not {weight.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        var parsed = DnsblCodes.Parse([.. codes.Select(c => c.Value)], out var error);
        if (parsed is null)
        {
            r.Error(r.Get("codes") ?? r.Node, $"'codes': {error}");
            return null;
        }
        if (symbol is not null && (symbol.Length == 0 || !symbol.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
        {
            r.Error(symbolNode, "'symbol' must be letters, digits and '_'");
            return null;
        }
        var normalized = Dns.DnsNames.Normalize(zone);
        return new DnsblZone(normalized, weight, parsed, type, symbol ?? DnsblZone.SymbolFor(normalized, type), score ?? weight);
    }
}
