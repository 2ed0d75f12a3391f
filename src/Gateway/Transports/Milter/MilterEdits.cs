using Gateway.Configuration;

namespace Gateway.Transports.Milter;

/// <summary>
/// The end-of-message decision (<see cref="DataDecision"/>) as milter modification requests, so that the MTA
/// delivers the message as the gateway would have forwarded it over SMTP:
/// <list type="bullet">
/// <item>headers the message must lose (a filter's change or delete, the gateway's score headers, and any
/// Authentication-Results that claims the gateway's authserv-id): SMFIR_CHGHEADER with an empty value, each
/// occurrence numbered as the MTA counts it (among the headers it sent, by name, case-insensitively), the last
/// first, so that no deletion moves the number of another;</item>
/// <item>the Subject prefix (policy.thresholds.rewrite_subject): SMFIR_CHGHEADER of the first Subject, or
/// SMFIR_ADDHEADER when there is none;</item>
/// <item>the headers the gateway adds, in order at the top (SMFIR_INSHEADER at 0, 1, ...: Authentication-Results
/// first, above the MTA's own Received header), except the score headers, appended (SMFIR_ADDHEADER).</item>
/// </list>
/// </summary>
public static class MilterEdits
{
    public static List<byte[]> For(DataDecision decision, IReadOnlyList<(string Name, string Value)> received, GatewayConfig config, bool leadingSpace)
    {
        var packets = new List<byte[]>();
        var policy = config.Policy;
        var space = leadingSpace ? " " : "";
        var removed = new HashSet<string>([policy.ScoreHeader, policy.SymbolsHeader, .. decision.RemovedHeaders], StringComparer.OrdinalIgnoreCase);
        var authservId = config.Server.Hostname;

        var seen = new Dictionary<string, uint>(StringComparer.OrdinalIgnoreCase);
        var deletions = new List<(string Name, uint Occurrence)>();
        (uint Occurrence, string Value)? subject = null;
        foreach (var (name, value) in received)
        {
            seen.TryGetValue(name, out var count);
            seen[name] = ++count;
            if (removed.Contains(name) || ClaimsOurs(name, value, authservId))
                deletions.Add((name, count));
            else if (subject is null && name.Equals("Subject", StringComparison.OrdinalIgnoreCase))
                subject = (count, value);
        }
        for (var i = deletions.Count - 1; i >= 0; i--)
            packets.Add(MilterReplies.ChangeHeader(deletions[i].Occurrence, deletions[i].Name, ""));

        if (decision.SubjectPrefix is { } prefix)
        {
            packets.Add(subject is { } s
                ? MilterReplies.ChangeHeader(s.Occurrence, "Subject", space + prefix + s.Value.TrimStart(' ', '\t'))
                : MilterReplies.AddHeader("Subject", space + prefix.TrimEnd()));
        }

        uint at = 0;
        foreach (var (name, value) in Fields(decision.AddedHeaders))
        {
            var scoreHeader = name.Equals(policy.ScoreHeader, StringComparison.OrdinalIgnoreCase) || name.Equals(policy.SymbolsHeader, StringComparison.OrdinalIgnoreCase);
            packets.Add(scoreHeader ? MilterReplies.AddHeader(name, space + value) : MilterReplies.InsertHeader(at++, name, space + value));
        }
        return packets;
    }

    /// <summary>An (ARC-)Authentication-Results header whose authserv-id is ours: forged, or left by an earlier pass.</summary>
    private static bool ClaimsOurs(string name, string value, string authservId)
    {
        var arc = name.Equals("ARC-Authentication-Results", StringComparison.OrdinalIgnoreCase);
        if (!arc && !name.Equals("Authentication-Results", StringComparison.OrdinalIgnoreCase))
            return false;
        return string.Equals(Forwarding.ForgedHeaders.AuthservIdOf(value, arc), authservId, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>"Name: value\r\n" fields (folded lines included) as name and value, the one space after the colon taken off.</summary>
    public static IEnumerable<(string Name, string Value)> Fields(string headers)
    {
        var start = 0;
        while (start < headers.Length)
        {
            var end = start;
            while (true)
            {
                var crlf = headers.IndexOf("\r\n", end, StringComparison.Ordinal);
                end = crlf < 0 ? headers.Length : crlf + 2;
                if (end >= headers.Length || headers[end] is not (' ' or '\t'))
                    break;
            }
            var field = headers[start..end].TrimEnd('\r', '\n');
            start = end;
            var colon = field.IndexOf(':');
            if (colon <= 0)
                continue;
            var value = field[(colon + 1)..];
            yield return (field[..colon].TrimEnd(), value.StartsWith(' ') ? value[1..] : value);
        }
    }
}
