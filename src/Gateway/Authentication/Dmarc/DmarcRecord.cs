using System.Globalization;

namespace Gateway.Authentication.Dmarc;

/// <summary>
/// A DMARC policy record (RFC 7489 6.3, 6.4; np= from RFC 9091 4.1).
/// </summary>
/// <remarks>
/// Written by hand: no package served to this project parses DMARC records. How bad input is treated, per the RFC:
/// <list type="bullet">
/// <item>"v=DMARC1" must be the first tag (exact, upper case, as in the ABNF); anything else is not a DMARC record.</item>
/// <item>p= is required. A record whose p= is missing or invalid, or whose sp= is invalid, is used as if it said
/// p=none when it has an rua= with at least one syntactically valid URI (6.6.3 step 6.1, <see cref="PolicyImplied"/>);
/// without one, no DMARC processing applies and <see cref="TryParse"/> fails (the evaluator reports permerror with
/// policy none).</item>
/// <item>Syntax errors in the other known tags are discarded in favour of the defaults (6.3): pct=100, adkim=r,
/// aspf=r, ri=86400, fo=0, rf=afrf; an invalid np= is treated as absent (so sp=, then p=, applies). Each is noted in
/// <see cref="Warnings"/>.</item>
/// <item>Unknown tags are ignored (6.3). The first of a repeated tag counts. "\;" (an escaped separator, as some
/// zone tools publish it) is read as ";". Tag names and keyword values are case-insensitive.</item>
/// </list>
/// </remarks>
public sealed class DmarcRecord
{
    private DmarcRecord(string text) => Text = text;

    public string Text { get; }

    public DmarcPolicy Policy { get; private set; }

    /// <summary>True when p= was missing or invalid (or sp= invalid) and p=none is assumed because of rua=.</summary>
    public bool PolicyImplied { get; private set; }

    /// <summary>sp=: the policy for subdomains; null when absent (p= applies).</summary>
    public DmarcPolicy? SubdomainPolicy { get; private set; }

    /// <summary>np= (RFC 9091): the policy for non-existent subdomains; null when absent or invalid.</summary>
    public DmarcPolicy? NonExistentPolicy { get; private set; }

    public int Percent { get; private set; } = 100;

    public AlignmentMode DkimAlignment { get; private set; } = AlignmentMode.Relaxed;

    public AlignmentMode SpfAlignment { get; private set; } = AlignmentMode.Relaxed;

    public IReadOnlyList<string> AggregateReportUris { get; private set; } = [];

    public IReadOnlyList<string> FailureReportUris { get; private set; } = [];

    public string FailureOptions { get; private set; } = "0";

    public string ReportFormat { get; private set; } = "afrf";

    public int ReportInterval { get; private set; } = 86400;

    /// <summary>Values that were not valid and were replaced by defaults or ignored.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private readonly List<string> _warnings = [];

    /// <summary>True when the text starts with the v=DMARC1 tag (RFC 7489 6.6.3 step 2: other TXT records are discarded).</summary>
    public static bool IsDmarcRecord(string text)
    {
        var tags = Split(text);
        return tags.Count > 0 && tags[0].Name == "v" && tags[0].Value == "DMARC1";
    }

    public static bool TryParse(string text, out DmarcRecord? record, out string? error)
    {
        record = null;
        var tags = Split(text);
        if (tags.Count == 0 || tags[0].Name != "v" || tags[0].Value != "DMARC1")
        {
            error = "not a DMARC1 record (v=DMARC1 must come first)";
            return false;
        }
        var result = new DmarcRecord(text);
        var seen = new HashSet<string>(StringComparer.Ordinal) { "v" };
        string? policyProblem = null;
        var hasPolicy = false;
        foreach (var (name, value) in tags.Skip(1))
        {
            if (!seen.Add(name))
            {
                result._warnings.Add($"repeated tag {name}= ignored");
                continue;
            }
            switch (name)
            {
                case "p":
                    if (ParsePolicy(value) is { } p)
                    {
                        result.Policy = p;
                        hasPolicy = true;
                    }
                    else
                    {
                        policyProblem ??= $"invalid p={value}";
                    }
                    break;
                case "sp":
                    if (ParsePolicy(value) is { } sp)
                        result.SubdomainPolicy = sp;
                    else
                        policyProblem ??= $"invalid sp={value}";
                    break;
                case "np":
                    if (ParsePolicy(value) is { } np)
                        result.NonExistentPolicy = np;
                    else
                        result._warnings.Add($"invalid np={value} ignored");
                    break;
                case "pct":
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pct) && pct <= 100)
                        result.Percent = pct;
                    else
                        result._warnings.Add($"invalid pct={value}: 100 used");
                    break;
                case "adkim":
                    result.DkimAlignment = ParseAlignment(value, "adkim", result._warnings);
                    break;
                case "aspf":
                    result.SpfAlignment = ParseAlignment(value, "aspf", result._warnings);
                    break;
                case "rua":
                    result.AggregateReportUris = ParseUris(value, "rua", result._warnings);
                    break;
                case "ruf":
                    result.FailureReportUris = ParseUris(value, "ruf", result._warnings);
                    break;
                case "fo":
                    if (value.Split(':').All(o => o.Trim() is "0" or "1" or "d" or "s"))
                        result.FailureOptions = value;
                    else
                        result._warnings.Add($"invalid fo={value}: 0 used");
                    break;
                case "rf":
                    if (value.Split(':').All(f => f.Trim().Equals("afrf", StringComparison.OrdinalIgnoreCase)))
                        result.ReportFormat = value;
                    else
                        result._warnings.Add($"invalid rf={value}: afrf used");
                    break;
                case "ri":
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ri))
                        result.ReportInterval = ri;
                    else
                        result._warnings.Add($"invalid ri={value}: 86400 used");
                    break;
                    // Unknown tags (and psd=, t= of later drafts) are ignored.
            }
        }
        if (!hasPolicy)
            policyProblem ??= "no p= tag";
        if (policyProblem is not null)
        {
            if (result.AggregateReportUris.Count == 0)
            {
                error = policyProblem + " and no valid rua=: no DMARC processing";
                return false;
            }
            result.Policy = DmarcPolicy.None;
            result.SubdomainPolicy = null;
            result.NonExistentPolicy = null;
            result.PolicyImplied = true;
            result._warnings.Add(policyProblem + ": p=none assumed because rua= is present");
        }
        record = result;
        error = null;
        return true;
    }

    private static DmarcPolicy? ParsePolicy(string value) => value.ToLowerInvariant() switch
    {
        "none" => DmarcPolicy.None,
        "quarantine" => DmarcPolicy.Quarantine,
        "reject" => DmarcPolicy.Reject,
        _ => null,
    };

    private static AlignmentMode ParseAlignment(string value, string tag, List<string> warnings)
    {
        switch (value.ToLowerInvariant())
        {
            case "r":
                return AlignmentMode.Relaxed;
            case "s":
                return AlignmentMode.Strict;
            default:
                warnings.Add($"invalid {tag}={value}: r used");
                return AlignmentMode.Relaxed;
        }
    }

    /// <summary>dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ], comma separated; invalid ones are dropped.</summary>
    private static IReadOnlyList<string> ParseUris(string value, string tag, List<string> warnings)
    {
        var uris = new List<string>();
        foreach (var part in value.Split(','))
        {
            var candidate = part.Trim();
            var bang = candidate.LastIndexOf('!');
            var uri = bang > 0 && IsSizeLimit(candidate.AsSpan(bang + 1)) ? candidate[..bang] : candidate;
            if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme.Length > 0 && !uri.Contains(' '))
                uris.Add(candidate);
            else
                warnings.Add($"invalid {tag} URI {candidate} ignored");
        }
        return uris;
    }

    private static bool IsSizeLimit(ReadOnlySpan<char> limit)
    {
        if (limit.Length > 0 && "kmgtKMGT".Contains(limit[^1]))
            limit = limit[..^1];
        if (limit.Length == 0)
            return false;
        foreach (var c in limit)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        return true;
    }

    private static List<(string Name, string Value)> Split(string text)
    {
        var tags = new List<(string, string)>();
        foreach (var part in text.Replace("\\;", ";", StringComparison.Ordinal).Split(';'))
        {
            var trimmed = part.Trim();
            if (trimmed.Length == 0)
                continue;
            var eq = trimmed.IndexOf('=');
            if (eq <= 0)
            {
                // Not tag=value: a broken first tag makes this no DMARC record; elsewhere it is ignored like an unknown tag.
                if (tags.Count == 0)
                    tags.Add(("", trimmed));
                continue;
            }
            tags.Add((trimmed[..eq].TrimEnd().ToLowerInvariant(), trimmed[(eq + 1)..].Trim()));
        }
        return tags;
    }
}
