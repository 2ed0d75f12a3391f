using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>Collects errors for one file, each with the line and column of the node it is about.</summary>
internal sealed class ConfigErrorSink(string file, HashSet<string>? dependencies = null)
{
    public string File { get; } = file;
    public List<ConfigError> Errors { get; } = [];

    /// <summary>Every file the configuration was read from (rule files, list files), for reloading on change.</summary>
    public HashSet<string> Dependencies { get; } = dependencies ?? new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Records a file the configuration depends on and returns it.</summary>
    public string Depend(string path)
    {
        Dependencies.Add(path);
        return path;
    }

    public void Add(YamlNode? node, string message) =>
        Errors.Add(new ConfigError(File, node?.Start.Line ?? 1, node?.Start.Column ?? 1, message));

    public List<ConfigError> Warnings { get; } = [];

    public void Warn(YamlNode? node, string message) =>
        Warnings.Add(new ConfigError(File, node?.Start.Line ?? 1, node?.Start.Column ?? 1, message, "warning"));
}

/// <summary>
/// Typed, error-collecting access to one YAML mapping. Every key read is remembered, so that
/// <see cref="RejectUnknownKeys"/> can report the rest as unknown: a typo never silently becomes a default.
/// </summary>
internal sealed class YamlMappingReader
{
    private readonly YamlMappingNode _node;
    private readonly string _path;
    private readonly ConfigErrorSink _errors;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private YamlMappingReader(YamlMappingNode node, string path, ConfigErrorSink errors)
    {
        _node = node;
        _path = path;
        _errors = errors;
    }

    public YamlNode Node => _node;

    internal ConfigErrorSink Sink => _errors;

    public string Path => _path;

    /// <summary>A reader over <paramref name="node"/>; a missing node reads as an empty mapping, any other kind is an error.</summary>
    public static YamlMappingReader For(YamlNode? node, string path, ConfigErrorSink errors)
    {
        if (node is YamlMappingNode mapping)
            return new YamlMappingReader(mapping, path, errors);
        if (node is not null && !IsNull(node))
            errors.Add(node, $"{Describe(path)} must be a mapping of keys to values");
        return new YamlMappingReader(new YamlMappingNode(), path, errors);
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" };

    private static string Describe(string path) => path.Length == 0 ? "the document" : $"'{path}'";

    private string KeyPath(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    public YamlNode? Get(string key)
    {
        _known.Add(key);
        if (_node.Children.TryGetValue(new YamlScalarNode(key), out var value) && !IsNull(value))
            return value;
        return null;
    }

    public YamlMappingReader Mapping(string key) => For(Get(key), KeyPath(key), _errors);

    public void Error(YamlNode? node, string message) => _errors.Add(node ?? _node, message);

    private string? Scalar(string key, out YamlNode? node)
    {
        node = Get(key);
        if (node is null)
            return null;
        if (node is YamlScalarNode scalar)
            return scalar.Value ?? "";
        _errors.Add(node, $"'{KeyPath(key)}' must be a single value");
        return null;
    }

    public string? String(string key, string? fallback = null) => Scalar(key, out _) ?? fallback;

    public (string? Value, YamlNode? Node) StringWithNode(string key) => (Scalar(key, out var node), node);

    public long Size(string key, long fallback, long min = 1)
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return fallback;
        if (!Units.TryParseSize(text, out var bytes) || bytes < min)
        {
            _errors.Add(node, $"'{KeyPath(key)}' must be a size such as 25MB, 512KB or 1048576 (at least {min} bytes), not '{text}'");
            return fallback;
        }
        return bytes;
    }

    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return fallback;
        if (!Units.TryParseDuration(text, out var duration) || duration <= TimeSpan.Zero)
        {
            _errors.Add(node, $"'{KeyPath(key)}' must be a positive duration such as 250ms, 30s, 5m or 1h, not '{text}'");
            return fallback;
        }
        return duration;
    }

    public int Int(string key, int fallback, int min, int max)
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            _errors.Add(node, $"'{KeyPath(key)}' must be a whole number from {min} to {max}, not '{text}'");
            return fallback;
        }
        return value;
    }

    /// <summary>Scores and thresholds are at most this far from 0: a sum of many stays finite (an infinite or NaN score cannot be compared, logged or written as JSON).</summary>
    public const double MaxNumber = 1_000_000;

    /// <summary>A decimal number (at most <see cref="MaxNumber"/> either way), or null when absent.</summary>
    public double? Number(string key)
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || Math.Abs(value) > MaxNumber)
        {
            _errors.Add(node, $"'{KeyPath(key)}' must be a number from -{MaxNumber:0} to {MaxNumber:0}, not '{text}'");
            return null;
        }
        return value;
    }

    public bool Bool(string key, bool fallback)
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return fallback;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                _errors.Add(node, $"'{KeyPath(key)}' must be true or false, not '{text}'");
                return fallback;
        }
    }

    public T Enum<T>(string key, T fallback) where T : struct, System.Enum
    {
        var text = Scalar(key, out var node);
        if (text is null)
            return fallback;
        var names = System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        if (Array.IndexOf(names, text) < 0 || !System.Enum.TryParse<T>(text, ignoreCase: true, out var value))
        {
            _errors.Add(node, $"'{KeyPath(key)}' must be one of {string.Join(" | ", names)}, not '{text}'");
            return fallback;
        }
        return value;
    }

    /// <summary>A sequence of scalars; a single scalar is accepted as a list of one.</summary>
    public IReadOnlyList<(string Value, YamlNode Node)> StringList(string key)
    {
        var node = Get(key);
        switch (node)
        {
            case null:
                return [];
            case YamlScalarNode scalar:
                return [(scalar.Value ?? "", scalar)];
            case YamlSequenceNode sequence:
                var items = new List<(string, YamlNode)>();
                foreach (var item in sequence.Children)
                {
                    if (item is YamlScalarNode s)
                        items.Add((s.Value ?? "", s));
                    else
                        _errors.Add(item, $"every item of '{KeyPath(key)}' must be a single value");
                }
                return items;
            default:
                _errors.Add(node, $"'{KeyPath(key)}' must be a list");
                return [];
        }
    }

    public void RejectUnknownKeys()
    {
        foreach (var (keyNode, _) in _node.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value;
            if (key is null || !_known.Contains(key))
            {
                var known = string.Join(", ", _known.Order(StringComparer.Ordinal));
                _errors.Add(keyNode, $"unknown key '{KeyPath(key ?? "?")}'" + (known.Length > 0 ? $" (known here: {known})" : ""));
            }
        }
    }
}
