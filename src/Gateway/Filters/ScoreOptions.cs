using Gateway.Configuration;

namespace Gateway.Filters;

/// <summary>A filter's <c>scores</c> (symbol name to score, over defaults) and <c>reject</c> (symbols that refuse) options.</summary>
internal static class ScoreOptions
{
    public static IReadOnlyDictionary<string, double> Read(YamlMappingReader options, IReadOnlyDictionary<string, double> defaults)
    {
        var scores = new Dictionary<string, double>(defaults, StringComparer.Ordinal);
        var r = options.Mapping("scores");
        foreach (var symbol in defaults.Keys)
        {
            if (r.Number(symbol) is { } score)
                scores[symbol] = score;
        }
        r.RejectUnknownKeys();
        return scores;
    }

    public static IReadOnlySet<string> ReadSet(YamlMappingReader options, string key, IEnumerable<string> known)
    {
        var names = known.ToHashSet(StringComparer.Ordinal);
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (value, node) in options.StringList(key))
        {
            if (names.Contains(value))
                set.Add(value);
            else
                options.Error(node, $"'{key}' takes {string.Join(", ", names)}, not '{value}'");
        }
        return set;
    }
}
