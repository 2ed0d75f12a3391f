using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>Parses one YAML document, turning every YamlDotNet failure into an error with its position.</summary>
internal static class YamlText
{
    /// <returns>false (with the error added to <paramref name="sink"/>) when the text is not valid YAML.</returns>
    public static bool TryLoad(string text, ConfigErrorSink sink, out YamlNode? root)
    {
        root = null;
        var scanner = new Scanner(new StringReader(text));
        try
        {
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
}
