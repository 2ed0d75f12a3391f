using System.Text.RegularExpressions;

namespace Gateway.Rules;

/// <summary>
/// Regexes from rule files, safe against catastrophic backtracking. A pattern runs with
/// <see cref="RegexOptions.NonBacktracking"/> (linear time in the input) whenever that engine supports it. Patterns
/// it cannot run (backreferences, lookarounds, atomic groups) use the backtracking engine with a match timeout;
/// a timeout is an error of the rules filter, which by default answers 451 4.3.0 and logs: never a silent pass.
/// </summary>
public sealed class SafeRegex
{
    public static readonly TimeSpan BacktrackingTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex _regex;

    private SafeRegex(Regex regex, bool linear)
    {
        _regex = regex;
        IsLinear = linear;
    }

    public string Pattern => _regex.ToString();

    /// <summary>False when the pattern needed the backtracking engine (and so runs under a timeout).</summary>
    public bool IsLinear { get; }

    /// <returns>null, or why the pattern does not compile.</returns>
    public static string? TryCreate(string pattern, bool ignoreCase, out SafeRegex? regex)
    {
        regex = null;
        var options = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        try
        {
            regex = new SafeRegex(new Regex(pattern, options | RegexOptions.NonBacktracking), linear: true);
            return null;
        }
        catch (NotSupportedException)
        {
            // Constructs the linear engine cannot run: fall through to the backtracking engine with a timeout.
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        try
        {
            regex = new SafeRegex(new Regex(pattern, options, BacktrackingTimeout), linear: false);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>The first match, or null. Throws <see cref="RegexMatchTimeoutException"/> past the timeout.</summary>
    public string? Match(string input)
    {
        var m = _regex.Match(input);
        return m.Success ? m.Value : null;
    }
}
