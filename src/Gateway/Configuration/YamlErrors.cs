using System.Text.RegularExpressions;

namespace Gateway.Configuration;

/// <summary>
/// YamlDotNet's parser messages ("While parsing a block mapping, did not find expected key.") in the words of someone
/// editing gateway.yaml; the position is given by the caller as file:line:column.
/// </summary>
internal static partial class YamlErrors
{
    public static string Describe(string message)
    {
        var text = Position().Replace(message, "").Trim();
        var lower = text.ToLowerInvariant();
        return lower switch
        {
            _ when lower.Contains("tab") =>
                "a tab used for indentation (YAML indents with spaces)",
            _ when lower.Contains("cannot start any token") =>
                "a character that cannot start a value here (a tab used for indentation? YAML indents with spaces; quote values that start with @ or `)",
            _ when lower.Contains("mapping values are not allowed") || lower.Contains("invalid mapping") =>
                "a 'key: value' where only a value can be (quote a value that contains ': ', or check the indentation of the line above)",
            _ when lower.Contains("block mapping") && lower.Contains("expected key") =>
                "this line is not indented like the keys around it (or the line above it is missing a ':')",
            _ when lower.Contains("expected '-' indicator") =>
                "this list item is not indented like the items before it",
            _ when lower.Contains("flow sequence") =>
                "a [ list is not closed with ] (or its items are not separated by commas)",
            _ when lower.Contains("flow mapping") =>
                "a { mapping is not closed with } (or its entries are not separated by commas)",
            _ when lower.Contains("quoted scalar") && lower.Contains("end of stream") =>
                "a quoted value is never closed (a missing \" or ')",
            _ when lower.Contains("quoted scalar") =>
                "a quoted value is broken (an unknown escape such as \\d inside \"...\"? use single quotes for regexes)",
            _ when lower.Contains("simple key") =>
                "a key without its ':' (or a value running onto the next line)",
            _ when lower.Contains("anchor") || lower.Contains("alias") =>
                "an anchor or alias (& or *) that cannot be used here; quote values that start with & or *",
            _ when lower.Contains("duplicate key") =>
                "duplicate key: the same key appears twice in this mapping",
            _ => text.Length > 0 ? char.ToLowerInvariant(text[0]) + text[1..].TrimEnd('.') : "not valid YAML",
        };
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex Position();
}
