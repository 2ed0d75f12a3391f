using System.Globalization;
using System.Text;

namespace Gateway.Detection;

/// <summary>
/// The skeleton of Unicode TR39 (section 4): two strings are confusable when their skeletons are equal. The skeleton
/// is NFD, then every character replaced by its prototype from confusables.txt, then NFD again. The mappings are
/// embedded (confusables.dat, generated from Unicode's confusables.txt by scripts/update-confusables).
/// </summary>
/// <remarks>
/// Written by hand: no package on our feed implements TR39 skeletons (ICU4N is an unfinished alpha; icu.net wraps
/// native ICU without its spoof checker), and the algorithm is three lines over the data.
/// </remarks>
public static class Confusables
{
    public const string ResourceName = "Gateway.Detection.confusables.dat";

    private static readonly Lazy<Dictionary<int, string>> Map = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The number of mappings loaded (6,000 and more for a real confusables.txt).</summary>
    public static int Count => Map.Value.Count;

    /// <summary>TR39 skeleton(X): NFD, map each code point to its prototype, NFD.</summary>
    public static string Skeleton(string text)
    {
        var map = Map.Value;
        var nfd = text.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(nfd.Length);
        foreach (var rune in nfd.EnumerateRunes())
        {
            if (map.TryGetValue(rune.Value, out var prototype))
                builder.Append(prototype);
            else
                builder.Append(rune.ToString());
        }
        return builder.ToString().Normalize(NormalizationForm.FormD);
    }

    /// <summary>
    /// The skeleton as domain names compare: case does not matter in DNS, so the skeleton is lower-cased (the data
    /// maps to upper-case prototypes too: '0' to 'O', and 'I' to 'l' before any lower-casing).
    /// </summary>
    public static string DomainSkeleton(string text) => Skeleton(text).ToLowerInvariant();

    private static Dictionary<int, string> Load()
    {
        using var stream = typeof(Confusables).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("embedded resource missing: " + ResourceName);
        using var reader = new StreamReader(stream);
        return Parse(reader);
    }

    /// <summary>Reads "SOURCE TARGET..." hex lines; '#' starts a comment line.</summary>
    internal static Dictionary<int, string> Parse(TextReader reader)
    {
        var map = new Dictionary<int, string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2)
                continue;
            var target = new StringBuilder();
            foreach (var hex in fields.AsSpan(1))
                target.Append(char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            map[int.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = target.ToString();
        }
        return map;
    }
}
