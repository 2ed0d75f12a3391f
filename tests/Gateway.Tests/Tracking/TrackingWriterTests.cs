using Gateway.Quarantine;
using Gateway.Tests.Support;
using Gateway.Tracking;

namespace Gateway.Tests.Tracking;

public class TrackingWriterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_stopped_store_never_blocks_recording_drops_and_counts_logs_once_and_recovers()
    {
        using var postgres = PostgresServer.Create();
        var config = new TrackingConfig(TrackingDatabase.Postgresql, null, postgres.CreateDatabase(), TimeSpan.FromDays(30), 1_000_000, QueueSize: 10, TimeSpan.FromMinutes(10));
        var store = new TrackingStore(TrackingDb.Open(config));
        var logs = new LogCollector();
        await using var writer = new TrackingWriter(store, config, "mx.test", logs.Factory.CreateLogger("tracking"));

        writer.Record(TestRecords.Make("A1.1", DateTimeOffset.UtcNow, TransactionOutcome.Delivered));
        await writer.FlushAsync().WaitAsync(Patience);
        Assert.Equal(1, writer.Written);

        postgres.Stop();
        for (var i = 0; i < 50; i++)
            writer.Record(TestRecords.Make($"B{i}.1", DateTimeOffset.UtcNow, TransactionOutcome.Delivered));
        await writer.FlushAsync().WaitAsync(Patience);
        Assert.Equal(50, writer.Dropped);
        var dropping = Assert.Single(logs.Lines, l => l.Contains("dropping records"));
        Assert.Contains("postgresql Host=127.0.0.1", dropping);

        postgres.Start();
        writer.Record(TestRecords.Make("C1.1", DateTimeOffset.UtcNow, TransactionOutcome.Rejected));
        await writer.FlushAsync().WaitAsync(Patience);
        Assert.Equal(2, writer.Written);
        Assert.Equal(["C1.1", "A1.1"], (await store.SearchAsync(new TrackingQuery(), CancellationToken.None)).Select(t => t.Id));
        Assert.Contains(logs.Lines, l => l.Contains("writing again; 50 record(s) were dropped"));
        Assert.Single(logs.Lines, l => l.Contains("dropping records"));
    }

    [Fact]
    public async Task A_directory_quarantine_that_fails_mid_write_leaves_nothing_half_written()
    {
        using var directory = new TempDirectory();
        var store = new DirectoryQuarantineStore(Path.Combine(directory.Path, "q"));
        var entry = new QuarantineEntry("W1.1", DateTimeOffset.UtcNow, "192.0.2.1", "h", "a@b.test", ["c@example.test"], "rule:x", 0, [], 100_000);
        var failure = await store.SaveAsync(entry, "Received: x\r\n", new FailingStream(new byte[100_000], failAfter: 70_000), CancellationToken.None);
        Assert.Equal("No space left on device", failure);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(directory.Path, "q")));
        Assert.Empty(await store.ListAsync(new QuarantineQuery(), CancellationToken.None));

        Assert.Null(await store.SaveAsync(entry, "Received: x\r\n", new MemoryStream(new byte[100]), CancellationToken.None));
        Assert.Equal(["W1.1.eml", "W1.1.json"], Directory.GetFiles(Path.Combine(directory.Path, "q")).Select(Path.GetFileName).Order());
    }
}
