using Gateway.Configuration;

namespace Gateway.Filters.Authentication;

/// <summary>A filter's <c>scores</c> option: a score per result name, over defaults; unknown names are errors.</summary>
internal static class ResultScores
{
    public static IReadOnlyDictionary<string, double> Read(YamlMappingReader options, IReadOnlyDictionary<string, double> defaults, IEnumerable<string> results)
    {
        // Every result name may be scored; those without a default score 0.
        var all = new Dictionary<string, double>(defaults, StringComparer.Ordinal);
        foreach (var result in results)
            all.TryAdd(result, 0);
        return ScoreOptions.Read(options, all);
    }

    public static string Symbol(string method, string result) => $"{method}_{result}".ToUpperInvariant();
}
