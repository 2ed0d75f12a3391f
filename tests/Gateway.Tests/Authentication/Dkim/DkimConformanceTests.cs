using System.Collections.Concurrent;
using Gateway.Authentication.Dkim;
using Xunit.Abstractions;

namespace Gateway.Tests.Authentication.Dkim;

/// <summary>Every row of TestData/dkim/manifest.tsv: our result for that signature must be one of expected_ar.</summary>
public class DkimConformanceTests(ITestOutputHelper output)
{
    private sealed record Row(string Set, string File, int Sig, string Type, string ExpectedAr, string Note)
    {
        public string Id => $"{File}#{Sig}";
    }

    private static readonly Lazy<IReadOnlyDictionary<string, Row>> Manifest = new(() =>
    {
        var lines = File.ReadAllLines(Path.Combine(DkimTestData.Root, "manifest.tsv"));
        var columns = lines[0].Split('\t');
        int Col(string name) => Array.IndexOf(columns, name);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'))
            .Select(f => new Row(f[Col("set")], f[Col("file")], int.Parse(f[Col("sig")]), f[Col("type")], f[Col("expected_ar")], f[Col("note")]))
            .ToDictionary(r => r.Id);
    });

    private static readonly ConcurrentDictionary<string, Lazy<Task<(IReadOnlyList<DkimSignatureResult> Results, List<string> Kinds)>>> Verified = new();

    public static TheoryData<string> Rows() => new(Manifest.Value.Keys);

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Row_gets_an_expected_result(string id)
    {
        var (ok, detail) = await Check(Manifest.Value[id]);
        Assert.True(ok, detail);
    }

    [Fact]
    public async Task Conformance_summary()
    {
        var failures = new List<string>();
        foreach (var row in Manifest.Value.Values)
        {
            var (ok, detail) = await Check(row);
            if (!ok)
                failures.Add(detail);
        }
        var total = Manifest.Value.Count;
        output.WriteLine($"DKIM conformance: {total - failures.Count}/{total} rows passed");
        Console.WriteLine($"DKIM conformance: {total - failures.Count}/{total} rows passed"); // into the test command's output, for the CI log
        foreach (var failure in failures)
            output.WriteLine(failure);
        Assert.Empty(failures);
    }

    private static async Task<(bool Ok, string Detail)> Check(Row row)
    {
        var (results, kinds) = await Verified.GetOrAdd(row.File, file => new(() => VerifyFile(file, row.Set))).Value;
        var expected = row.ExpectedAr.Split('|');
        string actual;
        string? reason = null;
        if (row.Type == "DK")
        {
            // DomainKeys signatures are ignored: none of our results may stand for one.
            actual = results.Count == kinds.Count(k => k == "DKIM") ? "none" : "a result for a DomainKey-Signature";
        }
        else
        {
            var index = kinds.Take(row.Sig + 1).Count(k => k == "DKIM") - 1;
            var result = results[index];
            actual = result.Result.ToString().ToLowerInvariant();
            reason = result.Reason;
        }
        var ok = expected.Contains(actual);
        return (ok, $"{row.Id}: got {actual} ({reason}), expected {row.ExpectedAr} [{row.Note}]");
    }

    private static async Task<(IReadOnlyList<DkimSignatureResult>, List<string>)> VerifyFile(string file, string set)
    {
        var message = DkimTestData.Load(file);
        var kinds = message.Headers
            .Where(h => h.Id is MimeKit.HeaderId.DkimSignature or MimeKit.HeaderId.DomainKeySignature)
            .Select(h => h.Id == MimeKit.HeaderId.DkimSignature ? "DKIM" : "DK").ToList();
        var checker = new DkimChecker(DkimTestData.ZoneFor(set), new DkimOptions { TimeProvider = new FixedClock(DkimTestData.Now) });
        return (await checker.VerifyAsync(message, CancellationToken.None), kinds);
    }
}
