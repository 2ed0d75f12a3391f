using System.Diagnostics;
using System.Text.RegularExpressions;
using Gateway.Rules;

namespace Gateway.Tests.Rules;

public class SafeRegexTests
{
    [Fact]
    public void Ordinary_patterns_run_in_linear_time_even_when_they_would_explode_with_backtracking()
    {
        Assert.Null(SafeRegex.TryCreate("^(a+)+$", ignoreCase: true, out var regex));
        Assert.True(regex!.IsLinear);
        var started = Stopwatch.StartNew();
        Assert.Null(regex.Match(new string('a', 50_000) + "!"));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
        Assert.Equal("VIAGRA", SafeRegex.TryCreate("v[i1]agra", true, out var v) ?? v!.Match("buy VIAGRA now"));
    }

    [Fact]
    public void Patterns_the_linear_engine_cannot_run_get_a_timeout_instead_of_hanging()
    {
        Assert.Null(SafeRegex.TryCreate(@"^(a+)+\1b$", ignoreCase: false, out var regex));
        Assert.False(regex!.IsLinear);
        Assert.Throws<RegexMatchTimeoutException>(() => regex.Match(new string('a', 5_000) + "!"));
    }

    [Fact]
    public void Patterns_that_do_not_compile_say_why()
    {
        Assert.NotNull(SafeRegex.TryCreate("([a-z", ignoreCase: true, out var regex));
        Assert.Null(regex);
    }
}
