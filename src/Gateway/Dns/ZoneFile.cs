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
