using System.Net;
using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Gateway.Tests.Pipeline;

public class FilterPipelineTests
{
    private static readonly GatewayConfig Config = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }", "t.yaml", Path.GetTempPath()).Config!;

    private static SessionState Session() => new("TEST", Config, new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 25));

    private static IFilter Filter(Func<Verdict> verdict)
    {
        var filter = Substitute.For<IFilter>();
        filter.Phases.Returns(new HashSet<Phase> { Phase.Connect });
        filter.EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>()).Returns(_ => ValueTask.FromResult(verdict()));
        return filter;
    }

    private static FilterPipeline Pipeline(params (string Name, IFilter Filter, OnError OnError)[] slots) =>
        new(new Dictionary<Phase, IReadOnlyList<FilterSlot>>
        {
            [Phase.Connect] = [.. slots.Select(s => new FilterSlot(s.Name, s.Filter, s.OnError, TimeSpan.FromMilliseconds(200)))],
        }, NullLogger.Instance);

    [Fact]
    public async Task Runs_filters_in_order_and_adds_up_their_scores()
    {
        var pipeline = Pipeline(
            ("a", Filter(() => Verdict.Continue("a", new Symbol("A", 1.5))), OnError.Tempfail),
            ("b", Filter(() => Verdict.Continue("b", new Symbol("B", 2), new Symbol("C", -0.5))), OnError.Tempfail));
        var evaluation = new Evaluation();
        Assert.Null(await pipeline.RunAsync(new FilterContext(Phase.Connect, Session()), evaluation, default));
        Assert.Equal(3, evaluation.Score);
        Assert.Equal(["a", "b"], evaluation.Trace.Select(t => t.Filter));
        Assert.Equal("A(1.5), B(2), C(-0.5)", evaluation.SymbolText);
    }

    [Fact]
    public async Task A_final_verdict_ends_the_phase()
    {
        var last = Filter(() => Verdict.Continue("c"));
        var pipeline = Pipeline(
            ("a", Filter(() => Verdict.Reject("a", new Reply(554, "5.7.1", "no"))), OnError.Tempfail),
            ("c", last, OnError.Tempfail));
        var verdict = await pipeline.RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), default);
        Assert.Equal(VerdictKind.Reject, verdict!.Kind);
        Assert.Equal("a", verdict.Source);
        await last.DidNotReceive().EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Accept_skips_the_rest_of_the_phase_without_deciding()
    {
        var last = Filter(() => Verdict.Reject("c", new Reply(554, "5.7.1", "no")));
        var pipeline = Pipeline(("a", Filter(() => Verdict.Accept("a")), OnError.Tempfail), ("c", last, OnError.Tempfail));
        Assert.Null(await pipeline.RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), default));
        await last.DidNotReceive().EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_filter_that_throws_tempfails_by_default_and_is_skipped_when_asked()
    {
        var broken = Substitute.For<IFilter>();
        broken.EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>()).Throws(new InvalidOperationException("boom"));

        var verdict = await Pipeline(("broken", broken, OnError.Tempfail)).RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), default);
        Assert.Equal(VerdictKind.Tempfail, verdict!.Kind);
        Assert.Equal("451 4.3.0 Temporary failure in filter broken, try again later", verdict.Reply!.ToString());

        var evaluation = new Evaluation();
        Assert.Null(await Pipeline(("broken", broken, OnError.Continue)).RunAsync(new FilterContext(Phase.Connect, Session()), evaluation, default));
        Assert.Contains("FILTER_ERROR", evaluation.SymbolText);
        Assert.Contains("boom", evaluation.SymbolText);
    }

    [Fact]
    public async Task A_filter_over_its_time_budget_tempfails()
    {
        var slow = Substitute.For<IFilter>();
        slow.EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>())
            .Returns(call => new ValueTask<Verdict>(Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()).ContinueWith(_ => Verdict.Continue("slow"), TaskScheduler.Default)));
        var verdict = await Pipeline(("slow", slow, OnError.Tempfail)).RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), default);
        Assert.Equal(VerdictKind.Tempfail, verdict!.Kind);
        Assert.Contains("time budget", verdict.Symbols[0].Detail);
    }

    [Fact]
    public async Task A_filter_that_ignores_cancellation_still_cannot_hold_the_session()
    {
        var stuck = Substitute.For<IFilter>();
        var never = new TaskCompletionSource<Verdict>();
        stuck.EvaluateAsync(Arg.Any<FilterContext>(), Arg.Any<CancellationToken>()).Returns(new ValueTask<Verdict>(never.Task));
        var verdict = await Pipeline(("stuck", stuck, OnError.Tempfail)).RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), default);
        Assert.Equal(VerdictKind.Tempfail, verdict!.Kind);
    }

    [Fact]
    public void The_same_finding_twice_counts_once_but_different_findings_add_up()
    {
        var evaluation = new Evaluation();
        var listed = new Symbol("DNSBL_ZEN", 3, "127.0.0.2");
        evaluation.Add(new TraceEntry(Phase.RcptTo, "dnsbl", Verdict.Continue("dnsbl", listed), TimeSpan.Zero));
        evaluation.Add(new TraceEntry(Phase.RcptTo, "dnsbl", Verdict.Continue("dnsbl", listed), TimeSpan.Zero));
        evaluation.Add(new TraceEntry(Phase.RcptTo, "rules", Verdict.Continue("rules", new Symbol("vip", 1, "recipient a@example.test")), TimeSpan.Zero));
        evaluation.Add(new TraceEntry(Phase.RcptTo, "rules", Verdict.Continue("rules", new Symbol("vip", 1, "recipient b@example.test")), TimeSpan.Zero));

        Assert.Equal(5, evaluation.Score);
        Assert.Equal(3, evaluation.Symbols.Count);
    }

    [Fact]
    public async Task A_phase_of_cheap_filters_runs_on_the_callers_thread_and_any_other_moves_to_the_thread_pool()
    {
        var ranOn = new List<int>();
        var cheap = Filter(() => { lock (ranOn) ranOn.Add(Environment.CurrentManagedThreadId); return Verdict.Continue("cheap"); });
        cheap.RunsInline.Returns(true);
        var costly = Filter(() => Verdict.Continue("costly"));
        var caller = Environment.CurrentManagedThreadId;

        var inline = Pipeline(("cheap", cheap, OnError.Tempfail)).RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), CancellationToken.None);
        Assert.True(inline.IsCompletedSuccessfully);
        Assert.Equal([caller], ranOn);

        // The other case on a pool thread that stays busy until the pipeline is done: with no SynchronizationContext,
        // as in the server, the hop must hand the filters to another thread.
        ranOn.Clear();
        var pipeline = Pipeline(("cheap", cheap, OnError.Tempfail), ("costly", costly, OnError.Tempfail));
        var (busy, completed) = await Task.Run(() =>
        {
            var run = pipeline.RunAsync(new FilterContext(Phase.Connect, Session()), new Evaluation(), CancellationToken.None).AsTask();
            return (Environment.CurrentManagedThreadId, SpinWait.SpinUntil(() => run.IsCompleted, TimeSpan.FromSeconds(10)));
        });
        Assert.True(completed);
        Assert.Single(ranOn);
        Assert.NotEqual(busy, ranOn[0]);
    }
}
