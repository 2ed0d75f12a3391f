using Gateway.Authentication;
using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>
/// An authentication result of the transaction (spf, dkim, dmarc, arc) against a set of result names, and
/// optionally the domain it is about: SPF's checked domain, a DKIM signature's d=, DMARC's author domain, the newest
/// ARC sealer. For DKIM, any signature may match; a message without signatures is "none".
/// </summary>
public sealed class AuthResultMatcher(string method, IReadOnlySet<string> results, TextPattern? domain) : IMatcher
{
    /// <summary>The result names each method can give (RFC 8601, RFC 8617).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Methods = new Dictionary<string, string[]>
    {
        ["spf"] = ["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"],
        ["dkim"] = ["pass", "fail", "policy", "neutral", "none", "permerror", "temperror"],
        ["dmarc"] = ["pass", "fail", "none", "permerror", "temperror"],
        ["arc"] = ["pass", "fail", "none"],
    };

    public Phase Needs => method == "spf" ? Phase.MailFrom : Phase.Data;

    public Lookups Requires => method switch
    {
        "spf" => Lookups.Spf,
        "dkim" => Lookups.Dkim,
        "dmarc" => Lookups.Dmarc,
        _ => Lookups.Arc,
    };

    public MatchResult Match(FilterContext context)
    {
        foreach (var (result, about) in Results(context.Session.Authentication))
        {
            if (results.Contains(result) && (domain is null || about is not null && domain.Match(about) is not null))
                return MatchResult.Yes(about is null ? $"{method}={result}" : $"{method}={result} ({about})");
        }
        return MatchResult.No;
    }

    private IEnumerable<(string Result, string? Domain)> Results(AuthenticationState auth)
    {
        switch (method)
        {
            case "spf":
                if (auth.Spf is { } spf)
                    yield return (Name(spf.Result), spf.Domain);
                break;
            case "dkim":
                if (auth.Dkim is { Count: 0 })
                    yield return ("none", null);
                foreach (var signature in auth.Dkim ?? [])
                    yield return (Name(signature.Result), signature.Domain);
                break;
            case "dmarc":
                if (auth.Dmarc is { } dmarc)
                    yield return (Name(dmarc.Result), dmarc.Domain);
                break;
            default:
                if (auth.Arc is { } arc)
                    yield return (Name(arc.Result), arc.Hops.Count > 0 ? arc.Hops[^1].SealDomain : null);
                break;
        }
    }

    private static string Name<T>(T result) where T : struct, Enum => result.ToString().ToLowerInvariant();
}

/// <summary>The client's forward-confirmed reverse DNS name ("unknown" when it has none) against a pattern.</summary>
public sealed class ReverseDnsMatcher(TextPattern pattern) : IMatcher
{
    public Phase Needs => Phase.Connect;

    public Lookups Requires => Lookups.ReverseDns;

    public MatchResult Match(FilterContext context)
    {
        var rdns = context.Session.ReverseDns;
        if (rdns is null || rdns.Failed && rdns.Name is null)
            throw new LookupFailedException($"the reverse DNS of {context.Session.Remote.Address} could not be looked up");
        return pattern.Match(rdns.Display) is not null ? MatchResult.Yes($"rdns '{rdns.Display}' matches {pattern}") : MatchResult.No;
    }
}
