using System.Text.RegularExpressions;

namespace Gateway.Tests.Support;

/// <summary>
/// The <c>[ref ID]</c> the gateway puts after every refusal and deferral (<see cref="Reply.WithRef"/>): tests that
/// assert a reply's words strip it, tests about the reference read it.
/// </summary>
public static partial class Refs
{
    [GeneratedRegex(@" \[ref (?<id>[0-9A-Z]{12}(?:\.[0-9]+)?)\]$", RegexOptions.Multiline)]
    private static partial Regex Pattern();

    /// <summary>The reply without its reference (each line of a multi-line reply, or an exception's message).</summary>
    public static string Strip(string reply) => Pattern().Replace(reply, "");

    /// <summary>The id a reply's last line names, or null.</summary>
    public static string? Of(string reply)
    {
        var m = Pattern().Match(reply.Split('\n')[^1]);
        return m.Success ? m.Groups["id"].Value : null;
    }

    /// <summary>
    /// Throws unless the gateway's reply line carries a reference exactly when it should: every 4xx and 5xx except
    /// RFC 5321's syntax and sequence errors (500-504, 555), never a 2xx or 3xx.
    /// </summary>
    public static void Check(string line)
    {
        if (line.Length < 4 || !int.TryParse(line.AsSpan(0, 3), out var code) || line[3] == '-')
            return;
        var expected = code is >= 400 and < 600 and not (>= 500 and <= 504 or 555);
        if (Pattern().IsMatch(line) != expected)
            throw new Xunit.Sdk.XunitException(expected ? $"no [ref ID] in the refusal '{line}'" : $"a [ref ID] where none belongs: '{line}'");
    }
}
