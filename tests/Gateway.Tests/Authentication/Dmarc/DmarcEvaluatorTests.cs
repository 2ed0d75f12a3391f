using Gateway.Authentication.Dmarc;
using Gateway.Dns;

namespace Gateway.Tests.Authentication.Dmarc;

/// <summary>What the table does not show: DNS traffic, the trace, and when the pct draw is taken.</summary>
public sealed class DmarcEvaluatorTests
{
    private static DmarcInput Input(string authorDomain, string? spfDomain, AuthVerdict spf) =>
        new(AuthorDomainResult.Single(authorDomain), new SpfInput(spfDomain, spf), []);

    [Fact]
    public async Task The_trace_names_each_query_and_its_answer()
    {
        var zone = new ZoneResolver().Add("_dmarc.example.com", RecordType.TXT, "v=DMARC1; p=reject");
        var evaluator = new DmarcEvaluator(zone, PublicSuffixList.Default, () => 0);
        var outcome = await evaluator.EvaluateAsync(Input("mail.example.com", "mail.example.com", AuthVerdict.Pass), CancellationToken.None);
        Assert.Equal(DmarcResult.Pass, outcome.Result);
        Assert.Equal(["TXT _dmarc.mail.example.com -> NxDomain", "TXT _dmarc.example.com -> v=DMARC1; p=reject"], outcome.Trace);
        Assert.Equal("v=DMARC1; p=reject", outcome.Record);
    }

    [Fact]
    public async Task A_public_suffix_author_is_asked_once_without_fallback()
    {
        var zone = new ZoneResolver();
        var evaluator = new DmarcEvaluator(zone, PublicSuffixList.Default, () => 0);
        var outcome = await evaluator.EvaluateAsync(Input("co.uk", null, AuthVerdict.Other), CancellationToken.None);
        Assert.Equal(DmarcResult.None, outcome.Result);
        Assert.Equal(1, zone.QueryCount);
    }

    [Fact]
    public async Task The_pct_draw_is_taken_only_for_a_failing_message_under_a_partial_pct()
    {
        var draws = 0;
        var zone = new ZoneResolver()
            .Add("_dmarc.full.example", RecordType.TXT, "v=DMARC1; p=reject")
            .Add("_dmarc.part.example", RecordType.TXT, "v=DMARC1; p=reject; pct=10");
        var evaluator = new DmarcEvaluator(zone, PublicSuffixList.Default, () => { draws++; return 50; });
        await evaluator.EvaluateAsync(Input("full.example", null, AuthVerdict.Fail), CancellationToken.None);
        await evaluator.EvaluateAsync(Input("part.example", "part.example", AuthVerdict.Pass), CancellationToken.None);
        Assert.Equal(0, draws);
        var outcome = await evaluator.EvaluateAsync(Input("part.example", null, AuthVerdict.Fail), CancellationToken.None);
        Assert.Equal(1, draws);
        Assert.Equal(DmarcPolicy.Quarantine, outcome.Disposition);
    }

    [Fact]
    public async Task A_passing_message_stays_pass_when_np_existence_cannot_be_told()
    {
        var zone = new ZoneResolver()
            .Add("_dmarc.example.com", RecordType.TXT, "v=DMARC1; p=none; np=reject")
            .Fail("ghost.example.com", "timeout");
        var evaluator = new DmarcEvaluator(zone, PublicSuffixList.Default, () => 0);
        var outcome = await evaluator.EvaluateAsync(Input("ghost.example.com", "example.com", AuthVerdict.Pass), CancellationToken.None);
        Assert.Equal(DmarcResult.Pass, outcome.Result);
        Assert.Equal("p", outcome.PolicySource);
        Assert.Contains(outcome.Trace, t => t.StartsWith("A ghost.example.com -> failure: timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invalid_author_domain_is_permerror()
    {
        var evaluator = new DmarcEvaluator(new ZoneResolver(), PublicSuffixList.Default, () => 0);
        var outcome = await evaluator.EvaluateAsync(Input("bad..example", null, AuthVerdict.Other), CancellationToken.None);
        Assert.Equal(DmarcResult.PermError, outcome.Result);
        Assert.Equal(DmarcPolicy.None, outcome.Policy);
    }

    [Fact]
    public async Task Cancellation_is_passed_to_dns()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var evaluator = new DmarcEvaluator(new CancellingResolver(), PublicSuffixList.Default, () => 0);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            evaluator.EvaluateAsync(Input("example.com", null, AuthVerdict.Other), cts.Token));
    }

    private sealed class CancellingResolver : IDnsResolver
    {
        public ValueTask<DnsAnswer<string>> TxtAsync(string name, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new(DnsAnswer<string>.NxDomain);
        }

        public ValueTask<DnsAnswer<System.Net.IPAddress>> AAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<DnsAnswer<System.Net.IPAddress>> AaaaAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<DnsAnswer<MxHost>> MxAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<DnsAnswer<string>> PtrAsync(System.Net.IPAddress address, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
