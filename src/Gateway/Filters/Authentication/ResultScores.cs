using Gateway.Configuration;

namespace Gateway.Filters.Authentication;

/// <summary>A filter's <c>scores</c> option: a score per result name, over defaults; unknown names are errors.</summary>
internal static class ResultScores
{
    public static IReadOnlyDictionary<string, double> Read(YamlMappingReader options, IReadOnlyDictionary<string, double> defaults, IEnumerable<string> results)
    {
        var scores = new Dictionary<string, double>(defaults, StringComparer.Ordinal);
        var known = results.ToArray();
        foreach (var result in known)
            scores.TryAdd(result, 0);
        var r = options.Mapping("scores");
        foreach (var result in known)
        {
            if (r.Number(result) is { } score)
                scores[result] = score;
        }
        r.RejectUnknownKeys();
        return scores;
    }

    /// <summary>METHOD_RESULT, as Rspamd names its symbols (SPF_FAIL, DKIM_PASS...).</summary>
    public static string Symbol(string method, string result) => $"{method}_{result}".ToUpperInvariant();
}
