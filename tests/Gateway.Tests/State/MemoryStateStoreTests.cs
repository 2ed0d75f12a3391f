using Gateway.State;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.State;

public sealed class MemoryStateStoreTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task A_limit_allows_n_events_in_the_window_then_refuses_until_the_oldest_leaves_it()
    {
        var store = new MemoryStateStore(_time);
        var window = TimeSpan.FromMinutes(1);
        for (var i = 1; i <= 3; i++)
        {
            var allowed = await store.HitAsync("k", 3, window, default);
            Assert.Equal(new LimitDecision(true, i, TimeSpan.Zero), allowed);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        var refused = await store.HitAsync("k", 3, window, default);
        Assert.False(refused.Allowed);
        Assert.Equal(3, refused.Count);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RetryAfter); // the first event, at 0 s, leaves at 60 s; now is 30 s

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False((await store.HitAsync("k", 3, window, default)).Allowed);
        _time.Advance(TimeSpan.FromSeconds(1)); // exactly one window after the first event: it no longer counts
        Assert.True((await store.HitAsync("k", 3, window, default)).Allowed);
        Assert.False((await store.HitAsync("k", 3, window, default)).Allowed);
        Assert.True((await store.HitAsync("other", 3, window, default)).Allowed);
    }

    [Fact]
    public async Task Concurrent_checks_never_allow_more_than_the_limit()
    {
        var store = new MemoryStateStore(_time);
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 400).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return (await store.HitAsync("k", 37, TimeSpan.FromHours(1), default)).Allowed;
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(37, results.Count(a => a));
    }

    [Fact]
    public async Task Greylisting_defers_a_new_triplet_passes_a_retry_after_the_delay_and_then_remembers_it()
    {
        var store = new MemoryStateStore(_time);
        var times = new GreylistTimes(TimeSpan.FromMinutes(5), TimeSpan.FromHours(4), TimeSpan.FromDays(35));

        Assert.Equal(new GreylistDecision(GreylistStatus.New, TimeSpan.FromMinutes(5)), await store.GreylistAsync("t", times, default));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(new GreylistDecision(GreylistStatus.TooEarly, TimeSpan.FromMinutes(3)), await store.GreylistAsync("t", times, default));
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(GreylistStatus.Passed, (await store.GreylistAsync("t", times, default)).Status);
        _time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(GreylistStatus.Known, (await store.GreylistAsync("t", times, default)).Status);
        _time.Advance(TimeSpan.FromDays(35)); // not seen for the whole expiry: forgotten
        Assert.Equal(GreylistStatus.New, (await store.GreylistAsync("t", times, default)).Status);
    }

    [Fact]
    public async Task A_first_retry_after_the_retry_window_starts_over()
    {
        var store = new MemoryStateStore(_time);
        var times = new GreylistTimes(TimeSpan.FromMinutes(5), TimeSpan.FromHours(4), TimeSpan.FromDays(35));
        await store.GreylistAsync("t", times, default);
        _time.Advance(TimeSpan.FromHours(4));

        Assert.Equal(GreylistStatus.New, (await store.GreylistAsync("t", times, default)).Status);
    }

    [Fact]
    public async Task Expired_keys_are_swept_out()
    {
        var store = new MemoryStateStore(_time);
        for (var i = 0; i < 100; i++)
            await store.HitAsync($"k{i}", 5, TimeSpan.FromSeconds(30), default);
        Assert.Equal(100, store.Count);

        _time.Advance(TimeSpan.FromMinutes(2));
        await store.HitAsync("fresh", 5, TimeSpan.FromSeconds(30), default);

        Assert.Equal(1, store.Count);
    }
}
