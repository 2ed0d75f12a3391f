using System.Reflection;

namespace Gateway.Authentication.Dmarc;

/// <summary>
/// The Public Suffix List (https://publicsuffix.org/list/): which names are public suffixes, and so which part of a
/// name is its registrable domain — DMARC's Organizational Domain (RFC 7489 3.2). Both the ICANN and the PRIVATE
/// sections are used. Rules and names are compared in A-label form, without regard to case.
/// </summary>
/// <remarks>
/// Written by hand: no package served to this project parses the list. A lookup is one dictionary probe per label of
/// the name (no scan of the ~9,000 rules), so it is cheap enough to run for every message.
/// </remarks>
public sealed class PublicSuffixList
{
    /// <summary>The name of the copy of the list embedded in the gateway (refreshed by scripts/update-psl).</summary>
    public const string ResourceName = "Gateway.Authentication.Dmarc.public_suffix_list.dat";

    [Flags]
    private enum Rule : byte
    {
        None = 0,
        /// <summary>"example.com": the name itself is a public suffix.</summary>
        Exact = 1,
        /// <summary>"*.example.com": every child of the name is a public suffix.</summary>
        Wildcard = 2,
        /// <summary>"!www.example.com": the name is not a public suffix although a wildcard says so.</summary>
        Exception = 4,
    }

    private static readonly Lazy<PublicSuffixList> LazyDefault = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<string, Rule> _rules;
    private readonly Dictionary<string, Rule>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    private PublicSuffixList(Dictionary<string, Rule> rules, int icannRules, int privateRules)
    {
        _rules = rules;
        _bySpan = rules.GetAlternateLookup<ReadOnlySpan<char>>();
        IcannRuleCount = icannRules;
        PrivateRuleCount = privateRules;
    }

    /// <summary>The list shipped inside the gateway, parsed once on first use.</summary>
    public static PublicSuffixList Default => LazyDefault.Value;

    public int IcannRuleCount { get; }

    public int PrivateRuleCount { get; }

    /// <summary>An operator-supplied list file (for example a newer download). Throws when it holds no ICANN section.</summary>
    public static PublicSuffixList Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader);
    }

    public static PublicSuffixList Parse(string text) => Parse(new StringReader(text));

    /// <summary>Parses the list format: one rule a line (the first word), "//" comments, "*." wildcards, "!" exceptions.</summary>
    public static PublicSuffixList Parse(TextReader reader)
    {
        var rules = new Dictionary<string, Rule>(StringComparer.Ordinal);
        int icann = 0, @private = 0;
        bool? privateSection = null; // rules before the first section marker are not counted as either
        while (reader.ReadLine() is { } line)
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
                continue;
            if (trimmed.StartsWith("//", StringComparison.Ordinal))
            {
                if (trimmed.Contains("===BEGIN PRIVATE DOMAINS===", StringComparison.Ordinal))
                    privateSection = true;
                else if (trimmed.Contains("===BEGIN ICANN DOMAINS===", StringComparison.Ordinal))
                    privateSection = false;
                continue;
            }
            var end = trimmed.IndexOfAny([' ', '\t']);
            var token = end < 0 ? trimmed : trimmed[..end];
            var kind = Rule.Exact;
            if (token.StartsWith('!'))
            {
                kind = Rule.Exception;
                token = token[1..];
            }
            else if (token.StartsWith("*.", StringComparison.Ordinal))
            {
                kind = Rule.Wildcard;
                token = token[2..];
            }
            // A wildcard anywhere but in front is not used by the list; such a line is skipped rather than misread.
            if (token.Contains('*') || DomainNames.ToAscii(token) is not { } name)
                continue;
            rules[name] = rules.GetValueOrDefault(name) | kind;
            if (privateSection is true)
                @private++;
            else if (privateSection is false)
                icann++;
        }
        if (icann == 0)
            throw new InvalidDataException("not a public suffix list: no rules in a ===BEGIN ICANN DOMAINS=== section");
        return new PublicSuffixList(rules, icann, @private);
    }

    /// <summary>
    /// The registrable domain (public suffix plus one label) in A-label form, lower case; null when the name is itself
    /// a public suffix, or is not a valid domain name (empty, a leading dot, an empty label, a bad IDN). A name under
    /// no listed rule has its last label as public suffix (the list's implicit "*" rule).
    /// </summary>
    public string? RegistrableDomain(string? domain)
    {
        if (DomainNames.ToAscii(domain) is not { } name)
            return null;
        var suffixStart = PublicSuffixStart(name);
        if (suffixStart == 0)
            return null;
        var labelStart = name.LastIndexOf('.', suffixStart - 2) + 1;
        return name[labelStart..];
    }

    /// <summary>True when the name is a public suffix (so has no registrable domain).</summary>
    public bool IsPublicSuffix(string domain) => DomainNames.ToAscii(domain) is { } name && PublicSuffixStart(name) == 0;

    /// <summary>Where the public suffix starts in a normalised name (0: the whole name is one).</summary>
    private int PublicSuffixStart(string name)
    {
        // Walk the suffixes from the shortest (the last label) to the whole name. At each: an exception rule wins
        // over every other match (its parent is the public suffix); else the longest exact or wildcard match counts.
        var best = name.LastIndexOf('.') + 1; // the implicit "*" rule: the last label
        var exception = -1;
        var start = name.Length;
        while (start > 0)
        {
            var dot = name.LastIndexOf('.', start - 1);
            var labelStart = dot + 1;
            if (_bySpan.TryGetValue(name.AsSpan(labelStart), out var rule))
            {
                if ((rule & Rule.Exception) != 0)
                    exception = NextLabel(name, labelStart);
                if ((rule & Rule.Exact) != 0)
                    best = Math.Min(best, labelStart);
                if ((rule & Rule.Wildcard) != 0 && dot > 0)
                    best = Math.Min(best, name.LastIndexOf('.', dot - 1) + 1);
            }
            if (dot < 0)
                break;
            start = dot;
        }
        return exception >= 0 ? exception : best;
    }

    private static int NextLabel(string name, int labelStart)
    {
        var dot = name.IndexOf('.', labelStart);
        return dot < 0 ? name.Length : dot + 1;
    }

    private static PublicSuffixList LoadEmbedded()
    {
        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("embedded resource missing: " + ResourceName);
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }
}
