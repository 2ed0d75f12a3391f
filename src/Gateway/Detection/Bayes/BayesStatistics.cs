using Microsoft.Extensions.Logging;

namespace Gateway.Detection.Bayes;

/// <summary>
/// The snapshot the filter scores with: read from the store on first use, then re-read in the background when it
/// is older than the refresh interval and the store has changed. A message never waits for a refresh; a store that
/// cannot be read keeps the last good snapshot (and says so once in the log).
/// </summary>
public sealed class BayesStatistics(IBayesStore store, TimeSpan refresh, TimeProvider time)
{
    private readonly SemaphoreSlim _first = new(1, 1);
    private BayesSnapshot? _current;
    private long _loadedAt;
    private int _refreshing;
    private int _failing;

    public IBayesStore Store => store;

    /// <summary>Where a failed refresh is reported (set by the filter that owns these statistics).</summary>
    public ILogger? Logger { get; set; }

    public async ValueTask<BayesSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current)
        {
            if (time.GetElapsedTime(Volatile.Read(ref _loadedAt)) >= refresh && Interlocked.Exchange(ref _refreshing, 1) == 0)
                _ = Task.Run(RefreshAsync, CancellationToken.None);
            return current;
        }
        await _first.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current is null)
            {
                try
                {
                    _current = await store.LoadAsync(null, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsStoreFailure(e))
                {
                    // Scoring goes on without statistics (the filter abstains) until a refresh can read the store.
                    _failing = 1;
                    Logger?.LogWarning("bayes: cannot read store {Store}: {Error}; the filter abstains until it can", store.Description, e.Message);
                    _current = BayesSnapshot.Empty;
                }
                Volatile.Write(ref _loadedAt, time.GetTimestamp());
            }
            return _current!;
        }
        finally
        {
            _first.Release();
        }
    }

    internal static bool IsStoreFailure(Exception e) =>
        e is IOException or InvalidDataException or UnauthorizedAccessException or State.StateUnavailableException or StackExchange.Redis.RedisException or TimeoutException;

    /// <summary>Re-reads the store now if it changed (after a learn in this process, and by the background refresh).</summary>
    public async Task RefreshAsync()
    {
        try
        {
            if (await store.LoadAsync(_current?.Version, CancellationToken.None).ConfigureAwait(false) is { } fresh)
                _current = fresh;
            if (Interlocked.Exchange(ref _failing, 0) == 1)
                Logger?.LogInformation("bayes: store {Store} readable again ({Snapshot})", store.Description, _current);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            if (Interlocked.Exchange(ref _failing, 1) == 0)
                Logger?.LogWarning("bayes: cannot read store {Store}: {Error}; scoring with the last statistics read ({Snapshot})", store.Description, e.Message, _current?.ToString() ?? "none");
        }
        finally
        {
            Volatile.Write(ref _loadedAt, time.GetTimestamp());
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
