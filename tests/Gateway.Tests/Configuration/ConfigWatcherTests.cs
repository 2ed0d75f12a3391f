using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Configuration;

/// <summary>
/// The configuration watcher over real files: it wakes for the configuration's own files only, not for the tracking
/// database written beside gateway.yaml. The kernel gives one watcher its events in order, so an event about a later
/// change proves that an earlier one was seen, or never made.
/// </summary>
public sealed class ConfigWatcherTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();
    private readonly ConcurrentQueue<string?> _noticed = new();
    private readonly SemaphoreSlim _changes = new(0);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _awaited = new();

    private ConfigWatcher Watch(params string[] dependencies) =>
        new(Path.Combine(_dir.Path, "gateway.yaml"), dependencies, () => _changes.Release(), path =>
        {
            _noticed.Enqueue(path);
            if (path is not null && _awaited.TryGetValue(path, out var waiter))
                waiter.TrySetResult();
        });

    /// <summary>Completes once the watcher has seen an event about <paramref name="path"/> (set before the change).</summary>
    private Task Noticing(string path) => _awaited.GetOrAdd(path, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    [Fact]
    public async Task Writes_to_the_tracking_database_beside_gateway_yaml_wake_nothing_and_a_rule_file_change_still_reloads()
    {
        _dir.Write("gateway.yaml", "server: {}\n");
        var rules = _dir.Write("local.yaml", "rules: []\n");
        // The tracking store as the gateway runs it (WAL, its -wal and -shm beside it), open before the watcher starts.
        await using var db = new SqliteConnection($"Data Source={Path.Combine(_dir.Path, "tracking.db")};Pooling=False");
        await db.OpenAsync();
        await Execute(db, "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        var bayes = _dir.Write("bayes.db", "");

        using var watcher = Watch(rules);
        for (var i = 0; i < 100; i++)
        {
            await Execute(db, $"INSERT INTO t (v) VALUES ('{i}')");
            await File.AppendAllTextAsync(bayes, "x");
        }
        Assert.True(File.Exists(Path.Combine(_dir.Path, "tracking.db-wal")));

        var seen = Noticing(rules);
        await File.AppendAllTextAsync(rules, "# edited\n");
        await seen.WaitAsync(Patience);
        Assert.True(await _changes.WaitAsync(Patience));
        Assert.All(_noticed, path => Assert.Equal(rules, path));
    }

    [Fact]
    public async Task A_rule_file_replaced_by_renaming_is_seen_and_so_are_later_writes_to_the_new_file()
    {
        var config = _dir.Write("gateway.yaml", "server: {}\n");
        var rules = _dir.Write("local.yaml", "rules: []\n");
        using var watcher = Watch(rules);

        // As editors save: a new file renamed over the old one.
        var marker = Path.Combine(_dir.Path, "marker-1");
        var seen = Noticing(marker);
        File.WriteAllText(rules + ".tmp", "rules: [] # saved\n");
        File.Move(rules + ".tmp", rules, overwrite: true);
        File.WriteAllText(marker, "");
        await seen.WaitAsync(Patience);
        Assert.True(await _changes.WaitAsync(Patience));
        var before = _noticed.Count(p => p == rules);
        Assert.True(before > 0);

        // The new file is watched for writes in place (the directory's watch sees names only).
        marker = Path.Combine(_dir.Path, "marker-2");
        seen = Noticing(marker);
        File.AppendAllText(rules, "# appended\n");
        File.AppendAllText(config, "# appended\n");
        File.WriteAllText(marker, "");
        await seen.WaitAsync(Patience);
        Assert.True(_noticed.Count(p => p == rules) > before, string.Join(", ", _noticed));
        Assert.Contains(config, _noticed);

        // Markers are names in the directory: seen, never a change.
        while (_changes.CurrentCount > 0)
            await _changes.WaitAsync();
        seen = Noticing(Path.Combine(_dir.Path, "marker-4"));
        File.WriteAllText(Path.Combine(_dir.Path, "marker-3"), "");
        File.WriteAllText(Path.Combine(_dir.Path, "marker-4"), "");
        await seen.WaitAsync(Patience); // marker-3's event, and what it would have caused, came before
        Assert.Equal(0, _changes.CurrentCount);
    }

    [Fact]
    public async Task A_new_file_a_rules_glob_takes_in_is_a_change()
    {
        _dir.Write("gateway.yaml", "server: {}\n");
        var rulesDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "rules")).FullName;
        using var watcher = Watch(Path.Combine(rulesDir, "*.yaml"));
        var added = Path.Combine(rulesDir, "extra.yaml");
        var seen = Noticing(added);
        File.WriteAllText(added, "rules: []\n");
        await seen.WaitAsync(Patience);
        Assert.True(await _changes.WaitAsync(Patience));
    }

    private static async Task Execute(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose()
    {
        _changes.Dispose();
        _dir.Dispose();
    }
}
