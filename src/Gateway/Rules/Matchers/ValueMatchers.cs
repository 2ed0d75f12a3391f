using Gateway.Filters;
using Gateway.Pipeline;
using MimeKit;

namespace Gateway.Rules.Matchers;

/// <summary>The client address against inline networks and list files.</summary>
public sealed class ClientIpMatcher(NetworkList networks, string description) : IMatcher
{
    public Phase Needs => Phase.Connect;

    public MatchResult Match(FilterContext context)
    {
        var address = context.Session.Remote.Address;
        return networks.Contains(address) ? MatchResult.Yes($"client {address} in {description}") : MatchResult.No;
    }
}

/// <summary>A text value of the session or message (HELO, sender, recipients, subject) against a pattern.</summary>
public sealed class TextMatcher(string what, Phase needs, Func<FilterContext, IEnumerable<string>> values, TextPattern pattern) : IMatcher
{
    public Phase Needs => needs;

    public MatchResult Match(FilterContext context)
    {
        foreach (var value in values(context))
        {
            if (pattern.Match(value) is not null)
                return MatchResult.Yes($"{what} '{Truncate(value)}' matches {pattern}");
        }
        return MatchResult.No;
    }

    internal static string Truncate(string s) => s.Length <= 120 ? s : s[..117] + "...";

    public static IEnumerable<string> Helo(FilterContext c) => c.Session.Helo is { } h ? [h] : [];

    public static IEnumerable<string> Sender(FilterContext c) => c.Session.Sender is { } s ? [s.Address] : [];

    /// <summary>At RCPT: the recipient being decided; at DATA: every accepted recipient.</summary>
    public static IEnumerable<string> Recipients(FilterContext c) =>
        c.Recipient is { } r ? [r.Address] : c.Session.Recipients.Select(p => p.Address);

    public static IEnumerable<string> Subject(FilterContext c) =>
        c.Headers is { } h && h[HeaderId.Subject] is { } subject ? [subject] : [];
}

/// <summary>A header by name: a regex over any (or all) of its occurrences, and/or how many there are.</summary>
public sealed class HeaderMatcher(string name, SafeRegex? regex, bool all, int? min, int? max) : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        var values = context.Headers?.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList() ?? [];
        if (min is { } lo && values.Count < lo || max is { } hi && values.Count > hi)
            return MatchResult.No;
        if (regex is null)
            return MatchResult.Yes($"{values.Count} {name} header(s)");
        string? evidence = null;
        foreach (var value in values)
        {
            var hit = regex.Match(value);
            if (hit is null && all)
                return MatchResult.No;
            if (hit is not null)
            {
                evidence ??= $"{name}: '{TextMatcher.Truncate(value)}' matches regex {regex.Pattern}";
                if (!all)
                    break;
            }
        }
        return evidence is null ? MatchResult.No : MatchResult.Yes(evidence);
    }
}

/// <summary>The message size in bytes.</summary>
public sealed class SizeMatcher(long? min, long? max) : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        var size = context.Message?.Length ?? 0;
        return (min is null || size >= min) && (max is null || size <= max) ? MatchResult.Yes($"size {size}") : MatchResult.No;
    }
}
