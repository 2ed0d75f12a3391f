using System.Net;
using Gateway.Configuration;
using YamlDotNet.RepresentationModel;

namespace Gateway.Dns;

/// <summary>
/// Recorded DNS answers for <c>gateway explain --dns FILE</c>, so that a run repeats exactly. The format is the one of
/// the OpenSPF test suite's zonedata: a map from name to a list of records, each a one-key map
/// (<c>TXT</c>, <c>A</c>, <c>AAAA</c>, <c>MX: [preference, host]</c>, <c>PTR</c>, <c>CNAME</c>); a TXT value may be a
/// list of strings (concatenated). The bare item <c>TIMEOUT</c> fails every query for the name, <c>TXT: TIMEOUT</c>
/// only that type. A name not listed does not exist.
/// </summary>
public static class ZoneFile
{
    public static ZoneResolver? Load(string path, List<ConfigError> errors)
    {
        var sink = new ConfigErrorSink(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError(path, 0, 0, $"cannot read the DNS fixture: {e.Message}"));
            return null;
        }
        if (!YamlText.TryLoad(text, sink, out var root))
        {
            errors.AddRange(sink.Errors);
            return null;
        }
        var zone = new ZoneResolver();
        if (root is not YamlMappingNode names)
        {
            if (root is not null && !YamlMappingReader.IsNull(root))
                sink.Add(root, "a DNS fixture is a map from names to lists of records");
            errors.AddRange(sink.Errors);
            return sink.Errors.Count == 0 ? zone : null;
        }
        foreach (var (nameNode, recordsNode) in names.Children)
        {
            var name = ((YamlScalarNode)nameNode).Value ?? "";
            zone.AddName(name);
            if (recordsNode is not YamlSequenceNode records)
            {
                sink.Add(recordsNode, $"'{name}' must have a list of records");
                continue;
            }
            foreach (var item in records.Children)
                AddRecord(zone, name, item, sink);
        }
        errors.AddRange(sink.Errors);
        return sink.Errors.Count == 0 ? zone : null;
    }

    /// <summary>
    /// Writes recorded answers in this format: records by name; a failure as <c>TYPE: TIMEOUT</c>; a name that exists
    /// without the records asked for as an empty list; a name that does not exist is left out.
    /// </summary>
    public static void Write(string path, RecordingResolver recorded)
    {
        var root = new YamlMappingNode();
        foreach (var byName in recorded.Answers.GroupBy(a => a.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var records = new YamlSequenceNode();
            var exists = false;
            foreach (var (key, boxed) in byName.OrderBy(a => a.Key.Type))
            {
                var (status, items) = boxed switch
                {
                    DnsAnswer<string> a => (a.Status, a.Records.Select(r => (YamlNode)new YamlScalarNode(r) { Style = key.Type == RecordType.TXT ? YamlDotNet.Core.ScalarStyle.DoubleQuoted : YamlDotNet.Core.ScalarStyle.Any }).ToList()),
                    DnsAnswer<IPAddress> a => (a.Status, a.Records.Select(r => (YamlNode)new YamlScalarNode(r.ToString())).ToList()),
                    DnsAnswer<MxHost> a => (a.Status, a.Records.Select(r => (YamlNode)new YamlSequenceNode(new YamlScalarNode(r.Preference.ToString(System.Globalization.CultureInfo.InvariantCulture)), new YamlScalarNode(r.Exchange)) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow }).ToList()),
                    _ => (DnsStatus.NxDomain, new List<YamlNode>()),
                };
                exists |= status != DnsStatus.NxDomain;
                if (status == DnsStatus.Failure)
                    records.Add(new YamlMappingNode(key.Type.ToString(), "TIMEOUT"));
                foreach (var item in items)
                    records.Add(new YamlMappingNode(new YamlScalarNode(key.Type.ToString()), item));
            }
            if (exists)
                root.Add(byName.Key, records);
        }
        using var writer = new StreamWriter(path);
        writer.WriteLine("# DNS answers recorded by gateway explain --record-dns; a name not listed does not exist.");
        if (root.Children.Count > 0)
            new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
    }

    private static void AddRecord(ZoneResolver zone, string name, YamlNode item, ConfigErrorSink sink)
    {
        if (item is YamlScalarNode { Value: "TIMEOUT" })
        {
            zone.Fail(name, "timeout (recorded)");
            return;
        }
        if (item is not YamlMappingNode { Children.Count: 1 } record)
        {
            sink.Add(item, $"a record of '{name}' must be one of TXT, A, AAAA, MX, PTR, CNAME: value, or TIMEOUT");
            return;
        }
        var (typeNode, value) = record.Children.First();
        var typeName = ((YamlScalarNode)typeNode).Value ?? "";
        if (!Enum.TryParse<RecordType>(typeName, ignoreCase: false, out var type))
        {
            sink.Add(typeNode, $"unknown record type '{typeName}' (known: TXT, A, AAAA, MX, PTR, CNAME)");
            return;
        }
        if (value is YamlScalarNode { Value: "TIMEOUT" })
        {
            zone.Fail(name, "timeout (recorded)", type);
            return;
        }
        switch (type, value)
        {
            case (RecordType.TXT, YamlSequenceNode parts):
                zone.Add(name, type, string.Concat(parts.Children.Select(p => (p as YamlScalarNode)?.Value ?? "")));
                break;
            case (RecordType.MX, YamlSequenceNode { Children.Count: 2 } mx)
                when int.TryParse((mx.Children[0] as YamlScalarNode)?.Value, out var preference) && mx.Children[1] is YamlScalarNode { Value: { } host }:
                zone.Add(name, type, new MxHost(preference, DnsNames.Normalize(host)));
                break;
            case (RecordType.A or RecordType.AAAA, YamlScalarNode { Value: { } text }) when IPAddress.TryParse(text, out var address):
                zone.Add(name, type, address);
                break;
            case (RecordType.TXT or RecordType.PTR or RecordType.CNAME, YamlScalarNode { Value: { } text }):
                zone.Add(name, type, text);
                break;
            default:
                sink.Add(value, $"bad {typeName} record for '{name}'");
                break;
        }
    }
}
