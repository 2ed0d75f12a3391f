using Gateway.Authentication.Spf;
using Xunit.Abstractions;

namespace Gateway.Tests.Authentication.Spf;

/// <summary>The OpenSPF suites (TestData/spf): every test as a row, and one summary that counts them.</summary>
public sealed class SpfConformanceTests(ITestOutputHelper output)
{
    /// <summary>
    /// rfc4408-tests.yml is historical. Where RFC 7208 changed the result a test expects, the RFC 7208 result listed here
    /// is accepted for that test id, with the reason. Empty: where RFC 7208 changed a result (void lookups, SPF-type
    /// records, MX limit), the 4408 file already lists the RFC 7208 answer among the accepted ones, and the checker
    /// gives an accepted answer for every other test.
    /// </summary>
    private static readonly Dictionary<string, (string Result, string Reason)> Rfc7208Changes = new();

    /// <summary>
    /// Explanations compared without regard to ASCII case, by test id (in both files). v-macro-ip6: the suite writes the
    /// ip6 nibbles of %{ir} in upper case; this checker writes them in lower case as RFC 7208 7.4's own example does
    /// ("1.0.b.c.0.0...8.b.d.0.1.0.0.2.ip6._spf.example.com"); DNS names compare without case anyway.
    /// </summary>
    private static readonly Dictionary<string, string> CaseInsensitiveExplanations = new()
    {
        ["v-macro-ip6"] = "%{ir} nibbles in lower case, as in RFC 7208 7.4's example",
    };

    private static readonly DateTimeOffset Now = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static TheoryData<string> CaseNames => [.. SpfSuite.Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Case(string name)
    {
        var (failure, _) = await RunAsync(SpfSuite.Cases[name]);
        Assert.True(failure is null, failure);
    }

    [Fact]
    public async Task All_cases_pass()
    {
        var failures = new List<string>();
        foreach (var file in SpfSuite.Files)
        {
            var cases = SpfSuite.Cases.Values.Where(c => c.Name.StartsWith(file + ":", StringComparison.Ordinal)).ToList();
            var passed = 0;
            var alternatives = new List<string>();
            foreach (var suiteCase in cases)
            {
                var (failure, result) = await RunAsync(suiteCase);
                if (failure is null)
                    passed++;
                else
                    failures.Add(failure);
                if (failure is null && result != suiteCase.Results[0])
                    alternatives.Add($"{suiteCase.Id}: {result} (preferred {suiteCase.Results[0]})");
            }
            output.WriteLine($"SPF conformance ({file}-tests.yml): {passed}/{cases.Count} passed");
            Console.WriteLine($"SPF conformance ({file}-tests.yml): {passed}/{cases.Count} passed"); // into the test command's output, for the CI log
            foreach (var alternative in alternatives)
                output.WriteLine("  accepted, not the preferred result: " + alternative);
        }
        foreach (var failure in failures)
            output.WriteLine(failure);
        Assert.Empty(failures);
    }

    /// <summary>Runs one case: the failure (null when it passed) and the result the checker gave.</summary>
    private static async Task<(string? Failure, string Result)> RunAsync(SpfSuiteCase suiteCase)
    {
        var checker = new SpfChecker(suiteCase.Zone, new SpfOptions
        {
            DefaultExplanation = "DEFAULT",
            ReceivingHost = "receiver.example.net",
            TimeProvider = new FixedTime(Now),
        });
        var outcome = await checker.CheckAsync(suiteCase.Host, suiteCase.MailFrom, suiteCase.Helo, CancellationToken.None);
        var result = outcome.Result.ToString().ToLowerInvariant();
        var accepted = suiteCase.Results.Contains(result)
            || (suiteCase.Name.StartsWith("rfc4408:", StringComparison.Ordinal)
                && Rfc7208Changes.TryGetValue(suiteCase.Id, out var change) && change.Result == result);
        if (!accepted)
            return ($"{suiteCase.Name}: expected {string.Join(" or ", suiteCase.Results)}, got {result} ({outcome.Problem})", result);
        var comparison = CaseInsensitiveExplanations.ContainsKey(suiteCase.Id)
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;
        if (suiteCase.Explanation is not null && outcome.Result == SpfResult.Fail
            && !string.Equals(outcome.Explanation, suiteCase.Explanation, comparison))
            return ($"{suiteCase.Name}: explanation '{outcome.Explanation}', expected '{suiteCase.Explanation}'", result);
        return (null, result);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
