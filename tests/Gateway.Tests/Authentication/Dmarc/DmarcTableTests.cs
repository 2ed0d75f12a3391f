using System.Text;
using Gateway.Authentication.Dmarc;
using Gateway.Dns;
using Gateway.Tests.Support;
using MimeKit;
using Xunit.Abstractions;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Gateway.Tests.Authentication.Dmarc;

/// <summary>Runs TestData/dmarc/cases.yaml: each case against an in-memory zone and the pinned Public Suffix List.</summary>
public sealed class DmarcTableTests(ITestOutputHelper output)
{
    private static readonly Lazy<IReadOnlyList<DmarcCase>> Cases = new(LoadCases);

    private static readonly Lazy<PublicSuffixList> Psl =
        new(() => PublicSuffixList.Load(Path.Combine(RepoRoot.Find(), "tests/Gateway.Tests/TestData/dmarc/public_suffix_list.dat")));

    private static IReadOnlyList<DmarcCase> LoadCases()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoRoot.Find(), "tests/Gateway.Tests/TestData/dmarc/cases.yaml"));
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        return deserializer.Deserialize<DmarcCaseFile>(yaml).Cases;
    }

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Value)
            data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public async Task Case(string id)
    {
        var c = Cases.Value.Single(x => x.Id == id);
        var outcome = await RunAsync(c);
        var mismatches = Compare(c, outcome);
        Assert.True(mismatches.Count == 0, $"{c.Id} ({c.Source}): {string.Join("; ", mismatches)}\ntrace: {string.Join(" / ", outcome.Trace)}");
    }

    [Fact]
    public async Task Whole_table()
    {
        var passed = 0;
        var failures = new List<string>();
        foreach (var c in Cases.Value)
        {
            var mismatches = Compare(c, await RunAsync(c));
            if (mismatches.Count == 0)
                passed++;
            else
                failures.Add($"{c.Id}: {string.Join("; ", mismatches)}");
        }
        var summary = $"DMARC table: {passed}/{Cases.Value.Count} passed";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        foreach (var failure in failures)
            output.WriteLine(failure);
        Assert.True(Cases.Value.Count >= 40, "the table needs at least 40 cases");
        Assert.True(Cases.Value.Select(x => x.Id).Distinct().Count() == Cases.Value.Count, "case ids must be unique");
        Assert.Empty(failures);
    }

    private static async Task<DmarcOutcome> RunAsync(DmarcCase c)
    {
        var zone = new ZoneResolver();
        foreach (var (name, records) in c.Txt)
        {
            foreach (var record in records)
                zone.Add(name, RecordType.TXT, record);
        }
        foreach (var name in c.A)
            zone.Add(name, RecordType.A, "192.0.2.1");
        foreach (var name in c.Mx)
            zone.Add(name, RecordType.MX, new MxHost(10, "mx.example.invalid"));
        foreach (var name in c.Fail)
            zone.Fail(name, "SERVFAIL (test)");

        var raw = new StringBuilder();
        foreach (var from in c.From)
            raw.Append("From: ").Append(from).Append("\r\n");
        raw.Append("Subject: test\r\n\r\n");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(raw.ToString()));
        var headers = HeaderList.Load(stream);

        var spf = c.Spf is null ? new SpfInput(null, AuthVerdict.Other) : new SpfInput(c.Spf.Domain, Verdict(c.Spf.Result));
        var dkim = c.Dkim.Select(d => new DkimInput(d.Domain ?? "", Verdict(d.Result))).ToArray();
        var input = new DmarcInput(AuthorDomains.Extract(headers), spf, dkim);
        var evaluator = new DmarcEvaluator(zone, Psl.Value, () => c.Draw);
        return await evaluator.EvaluateAsync(input, CancellationToken.None);
    }

    private static AuthVerdict Verdict(string text) => text switch
    {
        "pass" => AuthVerdict.Pass,
        "fail" => AuthVerdict.Fail,
        "temperror" => AuthVerdict.TempError,
        _ => AuthVerdict.Other,
    };

    private static List<string> Compare(DmarcCase c, DmarcOutcome o)
    {
        var e = c.Expect;
        var mismatches = new List<string>();
        void Check(string what, object? expected, object? actual)
        {
            if (!Equals(expected, actual))
                mismatches.Add($"{what}: expected {expected ?? "null"}, got {actual ?? "null"}");
        }
        Check("result", e.Result, o.Result.ToString().ToLowerInvariant());
        Check("policy", e.Policy, o.Policy.ToString().ToLowerInvariant());
        Check("disposition", e.Disposition, o.Disposition.ToString().ToLowerInvariant());
        Check("policy source", e.PolicySource, o.PolicySource);
        Check("org domain", e.OrgDomain, o.OrganizationalDomain);
        if (e.Domain is not null)
            Check("domain", e.Domain, o.Domain);
        if (e.SpfAligned is { } spfAligned)
            Check("spf aligned", spfAligned, o.SpfAligned);
        if (e.DkimAligned is not null)
            Check("dkim aligned", e.DkimAligned, o.DkimAlignedDomain);
        if (e.Reason is not null && o.Reason?.Contains(e.Reason, StringComparison.Ordinal) != true)
            mismatches.Add($"reason: expected to contain '{e.Reason}', got '{o.Reason}'");
        return mismatches;
    }
}
