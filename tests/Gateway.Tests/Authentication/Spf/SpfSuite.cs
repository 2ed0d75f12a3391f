using System.Net;
using Gateway.Dns;
using Gateway.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Gateway.Tests.Authentication.Spf;

/// <summary>One test of an OpenSPF suite file, with the zone of its scenario.</summary>
public sealed record SpfSuiteCase(
    string Name,
    string Id,
    IPAddress Host,
    string MailFrom,
    string Helo,
    IReadOnlyList<string> Results,
    string? Explanation,
    ZoneResolver Zone);

/// <summary>Reads the OpenSPF YAML suites (TestData/spf, see SOURCE.md there) into cases and in-memory zones.</summary>
public static class SpfSuite
{
    public static readonly string[] Files = ["rfc7208", "rfc4408"];

    private static readonly Lazy<IReadOnlyDictionary<string, SpfSuiteCase>> All = new(() =>
        Files.SelectMany(Load).ToDictionary(c => c.Name));

    public static IReadOnlyDictionary<string, SpfSuiteCase> Cases => All.Value;

    private static IEnumerable<SpfSuiteCase> Load(string file)
    {
        var path = Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "spf", file + "-tests.yml");
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
            stream.Load(reader);
        foreach (var document in stream.Documents)
        {
            var root = (YamlMappingNode)document.RootNode;
            var scenario = Scalar(root, "description") ?? "?";
            var zone = root.Children.TryGetValue(new YamlScalarNode("zonedata"), out var zonedata)
                ? BuildZone((YamlMappingNode)zonedata)
                : new ZoneResolver();
            foreach (var (key, value) in ((YamlMappingNode)root["tests"]).Children)
            {
                var id = ((YamlScalarNode)key).Value!;
                var test = (YamlMappingNode)value;
                var results = test["result"] is YamlSequenceNode list
                    ? list.Children.Select(r => ((YamlScalarNode)r).Value!.ToLowerInvariant()).ToArray()
                    : [Scalar(test, "result")!.ToLowerInvariant()];
                yield return new SpfSuiteCase($"{file}:{scenario}:{id}", id, IPAddress.Parse(Scalar(test, "host")!),
                    Scalar(test, "mailfrom") ?? "", Scalar(test, "helo") ?? "", results, Scalar(test, "explanation"), zone);
            }
        }
    }

    private static ZoneResolver BuildZone(YamlMappingNode zonedata)
    {
        var zone = new ZoneResolver();
        foreach (var (key, value) in zonedata.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var txt = new List<string>();
            var spf = new List<string>();
            var typed = new HashSet<RecordType>();
            bool timeout = false, txtNone = false;
            foreach (var item in ((YamlSequenceNode)value).Children)
            {
                if (item is YamlScalarNode { Value: "TIMEOUT" })
                {
                    timeout = true;
                    continue;
                }
                var (typeNode, data) = ((YamlMappingNode)item).Children.Single();
                var type = ((YamlScalarNode)typeNode).Value!;
                if (data is YamlScalarNode { Value: "TIMEOUT" })
                {
                    zone.Fail(name, "timeout", type == "SPF" ? RecordType.TXT : Enum.Parse<RecordType>(type));
                    continue;
                }
                switch (type)
                {
                    case "TXT" when data is YamlScalarNode { Value: "NONE" }:
                        txtNone = true;
                        break;
                    case "TXT":
                        txt.Add(Text(data));
                        break;
                    case "SPF":
                        spf.Add(Text(data));
                        break;
                    case "MX":
                        var mx = (YamlSequenceNode)data;
                        zone.Add(name, RecordType.MX, new MxHost(int.Parse(((YamlScalarNode)mx[0]).Value!),
                            ((YamlScalarNode)mx[1]).Value ?? ""));
                        typed.Add(RecordType.MX);
                        break;
                    default:
                        var recordType = Enum.Parse<RecordType>(type);
                        zone.Add(name, recordType, ((YamlScalarNode)data).Value!);
                        typed.Add(recordType);
                        break;
                }
            }
            // SPF-type records are served as TXT too, unless the name has its own TXT records or "TXT: NONE".
            var served = txt.Count > 0 ? txt : txtNone ? [] : spf;
            foreach (var record in served)
                zone.Add(name, RecordType.TXT, record);
            if (served.Count > 0)
                typed.Add(RecordType.TXT);
            if (txtNone)
                zone.AddName(name);
            if (timeout)
            {
                // The bare TIMEOUT applies to the types the name has no records of (pyspf's driver).
                foreach (var type in new[] { RecordType.A, RecordType.AAAA, RecordType.MX, RecordType.TXT, RecordType.PTR })
                {
                    if (!typed.Contains(type))
                        zone.Fail(name, "timeout", type);
                }
            }
        }
        return zone;
    }

    /// <summary>A TXT or SPF value: one string, or a list of character-strings joined without separator.</summary>
    private static string Text(YamlNode node) => node is YamlSequenceNode strings
        ? string.Concat(strings.Children.Select(s => ((YamlScalarNode)s).Value))
        : ((YamlScalarNode)node).Value ?? "";

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;
}
