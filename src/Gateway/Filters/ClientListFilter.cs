using Gateway.Configuration;
using Gateway.Pipeline;

namespace Gateway.Filters;

/// <summary>
/// Matches the client address against a list file of IPs and CIDR networks, and then accepts (skips the rest of
/// the phase), rejects, tempfails or scores. Typical use: a local block list at connect, or an allow list first.
/// </summary>
public sealed class ClientListFilter(string name, NetworkList list, VerdictKind action, double score, Reply reply) : IFilter
{
    private static readonly IReadOnlySet<Phase> AllPhases = new HashSet<Phase>(Enum.GetValues<Phase>());

    public IReadOnlySet<Phase> Phases => AllPhases;

    public bool RunsInline => true;

    public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var client = context.Session.Remote.Address;
        if (!list.Contains(client))
            return ValueTask.FromResult(Verdict.Continue(name));
        var symbol = new Symbol(name.ToUpperInvariant().Replace('-', '_'), score, $"client {client} listed");
        return ValueTask.FromResult(action switch
        {
            VerdictKind.Accept => new Verdict(VerdictKind.Accept, name, Symbols: [symbol]),
            VerdictKind.Reject or VerdictKind.Tempfail or VerdictKind.Disconnect => new Verdict(action, name, reply, [symbol]),
            _ => new Verdict(VerdictKind.Continue, name, Symbols: [symbol]),
        });
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var (file, fileNode) = options.StringWithNode("file");
        var actionText = options.String("action") ?? "reject";
        var score = options.Int("score", 0, -1000, 1000);
        var (text, _) = options.StringWithNode("reply");
        if (file is null)
        {
            options.Error(options.Node, "'client_list' needs 'file', a list of IP addresses and CIDR networks");
            return null;
        }
        VerdictKind action;
        switch (actionText)
        {
            case "accept": action = VerdictKind.Accept; break;
            case "reject": action = VerdictKind.Reject; break;
            case "tempfail": action = VerdictKind.Tempfail; break;
            case "disconnect": action = VerdictKind.Disconnect; break;
            case "score": action = VerdictKind.Continue; break;
            default:
                options.Error(options.Get("action"), $"'action' must be one of accept | reject | tempfail | disconnect | score, not '{actionText}'");
                return null;
        }
        var errors = new List<string>();
        var list = NetworkList.Load(options.Sink.Depend(Path.GetFullPath(file, baseDirectory)), errors);
        foreach (var error in errors)
            options.Error(fileNode, error);
        var reply = action == VerdictKind.Tempfail
            ? new Reply(451, "4.7.1", text ?? $"Service temporarily unavailable to your address ({name})")
            : new Reply(554, "5.7.1", text ?? $"Access denied to your address ({name})");
        return errors.Count == 0 ? new ClientListFilter(name, list, action, score, reply) : null;
    }
}
