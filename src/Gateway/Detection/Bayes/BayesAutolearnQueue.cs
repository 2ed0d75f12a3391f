using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gateway.Detection.Bayes;

/// <summary>
/// Autolearned messages wait here and are written to the store in batches by one background task, so that a
/// message never waits for a store write and a file store is rewritten once per batch, not once per message. The
/// queue is bounded: when the store cannot keep up, further autolearns are dropped (they are optional).
/// </summary>
public sealed class BayesAutolearnQueue
{
    private static readonly ConditionalWeakTable<BayesStatistics, BayesAutolearnQueue> Queues = [];

    private readonly Channel<LearnItem> _items = Channel.CreateBounded<LearnItem>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly BayesStatistics _statistics;

    private BayesAutolearnQueue(BayesStatistics statistics)
    {
        _statistics = statistics;
        _ = Task.Run(WriteAsync);
    }

    public static BayesAutolearnQueue For(BayesStatistics statistics) => Queues.GetValue(statistics, s => new BayesAutolearnQueue(s));

    public void Enqueue(LearnItem item) => _items.Writer.TryWrite(item);

    /// <summary>Raised after each batch is written (or failed), with the batch's size: for tests and metrics.</summary>
    internal event Action<int>? Written;

    private async Task WriteAsync()
    {
        var batch = new List<LearnItem>();
        while (await _items.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 1000 && _items.Reader.TryRead(out var item))
                batch.Add(item);
            try
            {
                var outcomes = await _statistics.Store.LearnAsync(batch, CancellationToken.None).ConfigureAwait(false);
                _statistics.Logger?.LogInformation("bayes: autolearned {Count} message(s) ({Spam} as spam, {Ham} as ham)",
                    outcomes.Count(o => o is LearnOutcome.Learned or LearnOutcome.Moved), batch.Count(b => b.Kind == LearnKind.Spam), batch.Count(b => b.Kind == LearnKind.Ham));
                await _statistics.RefreshAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (BayesStatistics.IsStoreFailure(e))
            {
                _statistics.Logger?.LogWarning("bayes: autolearn of {Count} message(s) failed: {Error}", batch.Count, e.Message);
            }
            Written?.Invoke(batch.Count);
            batch.Clear();
        }
    }
}
