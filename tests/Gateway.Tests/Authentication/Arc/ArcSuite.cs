using System.Text.RegularExpressions;
using Gateway.Authentication.Arc;
using Gateway.Tests.Support;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gateway.Tests.Authentication.Arc;

/// <summary>One validation test of the ValiMail ARC suite (TestData/arc/SOURCE.md).</summary>
public sealed record ArcSuiteCase(
    string Id, string Scenario, string Description, string Message, ArcResult Expected,
    IReadOnlyDictionary<string, string> TxtRecords);

/// <summary>
/// Reads the suite with YamlDotNet's event parser rather than its deserializer, because one scenario repeats four test
/// ids: the deserializer would refuse them or keep only one, this keeps both (the second as "id#2").
/// </summary>
public static partial class ArcSuite
{
    private static readonly Lazy<IReadOnlyList<ArcSuiteCase>> All = new(Load);

    public static IReadOnlyList<ArcSuiteCase> Cases => All.Value;

    public static ArcSuiteCase Get(string id) => Cases.Single(c => c.Id == id);

    private static IReadOnlyList<ArcSuiteCase> Load()
    {
        var path = Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "arc", "arc-draft-validation-tests.yml");
        // The three blank cv values are written "cv: |" over a line of spaces only, deeper than the next key; PyYAML
        // reads that as an empty string, YamlDotNet refuses it ("extra spaces in first line"). Same meaning, spelt "".
        var text = BlankLiteral().Replace(File.ReadAllText(path).Replace("\r\n", "\n"), "cv: \"\"\n");
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        var cases = new List<ArcSuiteCase>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (parser.TryConsume<DocumentStart>(out _))
        {
            var document = (List<KeyValuePair<string, object>>)ReadNode(parser);
            parser.Consume<DocumentEnd>();
            var scenario = Text(document, "description") ?? "";
            var records = Pairs(document, "txt-records").ToDictionary(
                p => p.Key.ToLowerInvariant(), p => (string)p.Value, StringComparer.Ordinal);
            foreach (var (id, body) in Pairs(document, "tests"))
            {
                var test = (List<KeyValuePair<string, object>>)body;
                var count = seen[id] = seen.GetValueOrDefault(id) + 1;
                cases.Add(new ArcSuiteCase(
                    count == 1 ? id : $"{id}#{count}",
                    scenario,
                    Text(test, "description") ?? "",
                    (Text(test, "message") ?? "").Replace("\r\n", "\n").Replace("\n", "\r\n"),
                    Expected(Text(test, "cv")),
                    records));
            }
        }
        return cases;
    }

    [GeneratedRegex(@"cv: *\|\n +\n")]
    private static partial Regex BlankLiteral();

    /// <summary>Blank cv is read as Fail, as Mail::DKIM's harness does (see SOURCE.md).</summary>
    private static ArcResult Expected(string? cv) => cv?.Trim().ToLowerInvariant() switch
    {
        "pass" => ArcResult.Pass,
        "none" => ArcResult.None,
        "fail" or "" or null => ArcResult.Fail,
        var other => throw new InvalidDataException("unexpected cv: " + other),
    };

    /// <summary>A scalar as its string, a mapping as its pairs in file order (duplicates kept), a sequence as a list.</summary>
    private static object ReadNode(IParser parser)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
            return scalar.Value;
        if (parser.TryConsume<MappingStart>(out _))
        {
            var pairs = new List<KeyValuePair<string, object>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = (string)ReadNode(parser);
                pairs.Add(new(key, ReadNode(parser)));
            }
            return pairs;
        }
        if (parser.TryConsume<SequenceStart>(out _))
        {
            var items = new List<object>();
            while (!parser.TryConsume<SequenceEnd>(out _))
                items.Add(ReadNode(parser));
            return items;
        }
        throw new InvalidDataException("unexpected YAML event: " + parser.Current);
    }

    private static string? Text(List<KeyValuePair<string, object>> map, string key) =>
        map.FirstOrDefault(p => p.Key == key).Value as string;

    private static List<KeyValuePair<string, object>> Pairs(List<KeyValuePair<string, object>> map, string key) =>
        map.FirstOrDefault(p => p.Key == key).Value as List<KeyValuePair<string, object>> ?? [];
}
