using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>Parses one YAML document, turning every YamlDotNet failure into an error with its position.</summary>
internal static class YamlText
{
    /// <summary>Deeper nesting is refused: YamlDotNet builds nodes recursively, and a few thousand levels overflow the stack (a crash, not an exception).</summary>
    public const int MaxDepth = 64;

    /// <summary>Nodes the document may hold once every alias is expanded: anchors and aliases ("billion laughs") otherwise make a few lines into a tree the loader walks for ever.</summary>
    public const long MaxExpandedNodes = 1_000_000;

    /// <returns>false (with the error added to <paramref name="sink"/>) when the text is not valid YAML.</returns>
    public static bool TryLoad(string text, ConfigErrorSink sink, out YamlNode? root)
    {
        root = null;
        var scanner = new Scanner(new StringReader(text));
        try
        {
            if (!WithinBounds(text, sink))
                return false;
            var stream = new YamlStream();
            stream.Load(new Parser(scanner));
            if (stream.Documents.Count > 1)
                sink.Add(stream.Documents[1].RootNode, "the file must hold a single YAML document");
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
            return true;
        }
        catch (YamlException e)
        {
            sink.Errors.Add(new ConfigError(sink.File, e.Start.Line, e.Start.Column, $"invalid YAML: {YamlErrors.Describe(e.Message)}"));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // YamlDotNet throws these for some malformed input (an unclosed flow sequence at the end of the file).
            var at = scanner.CurrentPosition;
            sink.Errors.Add(new ConfigError(sink.File, at.Line, at.Column, $"invalid YAML: the file ends inside a list or mapping (an unclosed [ or {{?)"));
        }
        return false;
    }

    /// <summary>
    /// One pass over the parser's events (the parser itself does not recurse): nesting depth, and the size of the
    /// document with every alias expanded (each anchor's size is known when its node ends), both bounded; no NUL.
    /// </summary>
    private static bool WithinBounds(string text, ConfigErrorSink sink)
    {
        var parser = new Parser(new StringReader(text));
        var open = new Stack<(string? Anchor, long Size)>();
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        while (MoveNext(parser))
        {
            var e = parser.Current!;
            long size;
            switch (e)
            {
                case MappingStart or SequenceStart:
                    if (open.Count >= MaxDepth)
                        return Refuse(sink, e, $"invalid YAML: nested more than {MaxDepth} levels deep");
                    open.Push((((NodeEvent)e).Anchor.IsEmpty ? null : ((NodeEvent)e).Anchor.Value, 1));
                    continue;
                case MappingEnd or SequenceEnd:
                    var (anchor, closed) = open.Pop();
                    if (anchor is not null)
                        anchors[anchor] = closed;
                    size = closed;
                    break;
                case Scalar scalar:
                    // No setting needs one, and a path with one makes .NET's file APIs throw.
                    if (scalar.Value.Contains('\0'))
                        return Refuse(sink, e, "a NUL character (\\0) in a value");
                    size = 1;
                    if (!scalar.Anchor.IsEmpty)
                        anchors[scalar.Anchor.Value] = 1;
                    total++;
                    break;
                case AnchorAlias alias:
                    size = anchors.GetValueOrDefault(alias.Value.Value, 1);
                    total += size;
                    break;
                default:
                    continue;
            }
            if (e is MappingEnd or SequenceEnd)
                total++;
            if (total > MaxExpandedNodes)
                return Refuse(sink, e, $"invalid YAML: more than {MaxExpandedNodes:N0} values once its aliases (*) are expanded");
            if (open.Count > 0)
            {
                var (a, s) = open.Pop();
                open.Push((a, Math.Min(s + size, MaxExpandedNodes + 1)));
            }
        }
        return true;
    }

    /// <summary>False at the end, and where YamlDotNet throws something other than a YamlException: the load that follows reports it.</summary>
    private static bool MoveNext(Parser parser)
    {
        try
        {
            return parser.MoveNext();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Refuse(ConfigErrorSink sink, ParsingEvent e, string message)
    {
        sink.Errors.Add(new ConfigError(sink.File, e.Start.Line, e.Start.Column, message));
        return false;
    }
}
