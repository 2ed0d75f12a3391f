using Gateway.Authentication.Arc;
using MimeKit;
using Xunit.Abstractions;

namespace Gateway.Tests.Authentication.Arc;

/// <summary>The ValiMail ARC chain-validation suite (175 entries), each a row, against <see cref="ArcChecker"/>.</summary>
public sealed class ArcConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (var c in ArcSuite.Cases)
            data.Add(c.Id);
        return data;
    }

    internal static async Task<ArcOutcome> RunAsync(ArcSuiteCase test)
    {
        // cv_empty is zero bytes, which MimeKit refuses to parse (the gateway refuses such a message before any check);
        // it has no ARC headers, the same as a message with no headers at all.
        var message = test.Message.Length == 0
            ? new MimeMessage()
            : MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(test.Message)));
        var checker = new ArcChecker(new SuiteKeyLocator(test.TxtRecords), ArcOptions.Default);
        return await checker.VerifyAsync(message, CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task Entry_matches_the_suite(string id)
    {
        var test = ArcSuite.Get(id);
        var outcome = await RunAsync(test);
        Assert.True(outcome.Result == test.Expected, $"{id} ({test.Description}): expected {test.Expected}, got {outcome.Result} ({outcome.Reason})");
    }

    [Fact]
    public async Task Suite_summary()
    {
        var agree = 0;
        foreach (var test in ArcSuite.Cases)
        {
            var outcome = await RunAsync(test);
            if (outcome.Result == test.Expected)
                agree++;
            else
                output.WriteLine($"DISAGREE {test.Id}: expected {test.Expected}, got {outcome.Result} ({outcome.Reason})");
        }
        output.WriteLine($"ARC conformance: {agree}/{ArcSuite.Cases.Count} agree");
        Assert.Equal(175, ArcSuite.Cases.Count);
    }
}
