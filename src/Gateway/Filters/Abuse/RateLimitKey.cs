using Gateway.Pipeline;
using Gateway.State;

namespace Gateway.Filters.Abuse;

/// <summary>What a rate limit counts by: one of these, or several together (a composite key).</summary>
public enum RateLimitKeyPart
{
    ClientIp,
    ClientNetwork,
    Sender,
    SenderDomain,
    Recipient,
}

/// <summary>The parts of a rate limit's key, and the text each part takes in a session.</summary>
public sealed record RateLimitKey(IReadOnlyList<RateLimitKeyPart> Parts, int NetworkV4, int NetworkV6)
{
    public static readonly IReadOnlyDictionary<string, RateLimitKeyPart> Names = new Dictionary<string, RateLimitKeyPart>(StringComparer.Ordinal)
    {
        ["client_ip"] = RateLimitKeyPart.ClientIp,
        ["client_network"] = RateLimitKeyPart.ClientNetwork,
        ["sender"] = RateLimitKeyPart.Sender,
        ["sender_domain"] = RateLimitKeyPart.SenderDomain,
        ["recipient"] = RateLimitKeyPart.Recipient,
    };

    /// <summary>The phases where every part is known: the client from connect on, the sender from MAIL, the recipient at RCPT.</summary>
    public IReadOnlySet<Phase> Phases
    {
        get
        {
            var phases = new HashSet<Phase> { Phase.Connect, Phase.MailFrom, Phase.RcptTo, Phase.Data };
            foreach (var part in Parts)
            {
                if (part is RateLimitKeyPart.Sender or RateLimitKeyPart.SenderDomain)
                    phases.Remove(Phase.Connect);
                if (part is RateLimitKeyPart.Recipient)
                    phases.IntersectWith([Phase.RcptTo]);
            }
            return phases;
        }
    }

    /// <summary>The value of each part in this context, in order (addresses and domains in lower case, <c>&lt;&gt;</c> for the null sender).</summary>
    public IReadOnlyList<string> Values(FilterContext context)
    {
        var session = context.Session;
        var values = new string[Parts.Count];
        for (var i = 0; i < Parts.Count; i++)
        {
            values[i] = Parts[i] switch
            {
                RateLimitKeyPart.ClientIp => Client(session.Remote.Address).ToString(),
                RateLimitKeyPart.ClientNetwork => StateKey.Network(session.Remote.Address, NetworkV4, NetworkV6),
                RateLimitKeyPart.Sender => session.Sender is { IsNull: false } s ? s.Address.ToLowerInvariant() : "<>",
                RateLimitKeyPart.SenderDomain => session.Sender is { IsNull: false } d ? d.AsciiDomain ?? d.Domain.ToLowerInvariant() : "<>",
                _ => context.Recipient?.Address.ToLowerInvariant() ?? "",
            };
        }
        return values;
    }

    /// <summary>"from 192.0.2.1", "from alice@sender.test to bob@example.test": for replies.</summary>
    public string Describe(IReadOnlyList<string> values)
    {
        var from = new List<string>();
        string? to = null;
        for (var i = 0; i < Parts.Count; i++)
        {
            if (Parts[i] == RateLimitKeyPart.Recipient)
                to = values[i];
            else
                from.Add(values[i]);
        }
        var text = from.Count > 0 ? "from " + string.Join(", ", from) : "";
        if (to is not null)
            text += (text.Length > 0 ? " " : "") + "to " + to;
        return text;
    }

    private static System.Net.IPAddress Client(System.Net.IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
