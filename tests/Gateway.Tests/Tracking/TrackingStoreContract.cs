using System.Text;
using Gateway.Quarantine;
using Gateway.Tracking;

namespace Gateway.Tests.Tracking;

/// <summary>
/// What the tracking store and the database quarantine answer, whatever the database: run against SQLite and
/// against a real PostgreSQL by the two classes below.
/// </summary>
public abstract class TrackingStoreContract
{
    protected abstract TrackingConfig NewConfig();

    private static readonly DateTimeOffset Now = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private TrackingStore NewStore() => new(TrackingDb.Open(NewConfig()));

    private static async Task<TrackingStore> FilledAsync(TrackingStore store)
    {
        await store.InsertAsync(
        [
            TrackedTransaction.From(TestRecords.Make("S1.1", Now.AddHours(-3), TransactionOutcome.Delivered, to: ["bob@example.test", "Carol@Example.test"]), "mx1.test"),
            TrackedTransaction.From(TestRecords.Make("S2.1", Now.AddHours(-2), TransactionOutcome.Rejected, sender: "mallory@evil.test", subject: "You WON the lottery\0 100%", by: "rule:no-lottery"), "mx1.test"),
            TrackedTransaction.From(TestRecords.Make("S2.2", Now.AddHours(-1), TransactionOutcome.Tempfailed, sender: "mallory@evil.test", subject: "again"), "mx2.test"),
            TrackedTransaction.From(TestRecords.Make("S3.1", Now, TransactionOutcome.Quarantined, subject: "Your invoice", by: "rule:hold-invoices", quarantineId: "S3.1"), "mx2.test"),
        ], CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Counts_per_hour_by_outcome_and_the_top_deciders_and_refused_clients_for_the_dashboard()
    {
        var store = await FilledAsync(NewStore());
        var stats = new TrackingStats(store.Db);
        var perHour = await stats.PerHourAsync(Now.AddHours(-24), CancellationToken.None);
        Assert.Equal(["05:00 delivered 1", "06:00 rejected 1", "07:00 tempfailed 1", "08:00 quarantined 1"],
            perHour.OrderBy(h => h.Hour).Select(h => $"{h.Hour.UtcDateTime:HH:mm} {h.Outcome} {h.Count}"));
        Assert.Equal(["08:00 quarantined 1"], (await stats.PerHourAsync(Now, CancellationToken.None)).Select(h => $"{h.Hour.UtcDateTime:HH:mm} {h.Outcome} {h.Count}"));
        var deciders = await stats.TopDecidersAsync(Now.AddHours(-24), 10, CancellationToken.None);
        Assert.Equal(["rule:hold-invoices quarantined 1", "rule:no-lottery rejected 1", "upstream tempfailed 1"], deciders.Select(k => $"{k.Key} {k.Outcome} {k.Count}"));
        var clients = await stats.TopRefusedClientsAsync(Now.AddHours(-24), 10, CancellationToken.None);
        Assert.Equal("refused 2", $"{Assert.Single(clients).Outcome} {clients[0].Count}");
    }

    private static async Task<string[]> IdsAsync(TrackingStore store, TrackingQuery query) =>
        [.. (await store.SearchAsync(query, CancellationToken.None)).Select(t => t.Id)];

    [Fact]
    public async Task Finds_transactions_by_sender_recipient_subject_time_outcome_and_id()
    {
        var store = await FilledAsync(NewStore());
        Assert.Equal(["S3.1", "S2.2", "S2.1", "S1.1"], await IdsAsync(store, new TrackingQuery()));
        Assert.Equal(["S2.2", "S2.1"], await IdsAsync(store, new TrackingQuery { From = "MALLORY@evil" }));
        Assert.Equal(["S1.1"], await IdsAsync(store, new TrackingQuery { To = "<carol@example.test>" }));
        Assert.Equal(["S2.1"], await IdsAsync(store, new TrackingQuery { Subject = "lottery" }));
        Assert.Equal(["S2.1"], await IdsAsync(store, new TrackingQuery { Subject = "100%" }));
        Assert.Empty(await IdsAsync(store, new TrackingQuery { Subject = "1_0" })); // LIKE's wildcards are matched as themselves
        Assert.Equal(["S3.1", "S2.2"], await IdsAsync(store, new TrackingQuery { Since = Now.AddMinutes(-90) }));
        Assert.Equal(["S3.1", "S2.1"], await IdsAsync(store, new TrackingQuery { Outcomes = ["rejected", "quarantined"] }));
        Assert.Equal(["S2.2", "S2.1"], await IdsAsync(store, new TrackingQuery { Id = "S2" })); // a session's transactions
        Assert.Equal(["S2.2"], await IdsAsync(store, new TrackingQuery { Id = "S2.2" }));
        Assert.Equal(["S1.1"], await IdsAsync(store, new TrackingQuery { Id = "S1.1@sender.test" })); // a Message-ID
        Assert.Equal(["S2.1"], await IdsAsync(store, new TrackingQuery { From = "mallory", Outcomes = ["rejected"], Since = Now.AddDays(-1) }));
        Assert.Equal(["S3.1"], await IdsAsync(store, new TrackingQuery { Limit = 1 }));
    }

    [Fact]
    public async Task A_transaction_reads_back_whole_with_its_recipients_and_evidence()
    {
        var store = await FilledAsync(NewStore());
        var t = await store.GetAsync("S2.1", CancellationToken.None);
        Assert.NotNull(t);
        Assert.Equal("rejected", t.Outcome);
        Assert.Equal("rule:no-lottery", t.DecidedBy);
        Assert.Equal("mx1.test", t.Gateway);
        Assert.Equal(Now.AddHours(-2), t.Time);
        Assert.Equal("You WON the lottery\uFFFD 100%", t.Subject); // NUL cannot go into PostgreSQL text: kept visible, not lost
        Assert.Equal("554 5.7.1 Rejected by policy (rule:no-lottery)", Assert.Single(t.Recipients).Reply);
        var evidence = Assert.Single(t.Evidence);
        Assert.Equal(("data", "rules", "continue", "rule:lottery-words"), (evidence.Phase, evidence.Filter, evidence.Verdict, evidence.Source));
        Assert.Equal("subject contains \"lottery\" <evil@x>", Assert.Single(evidence.Symbols).Detail);
        Assert.Equal(2.5, t.Score);
        Assert.Null(await store.GetAsync("nope", CancellationToken.None));
    }

    [Fact]
    public async Task A_record_written_twice_is_kept_once()
    {
        var store = NewStore();
        var record = TrackedTransaction.From(TestRecords.Make("D1.1", Now, TransactionOutcome.Delivered), "mx.test");
        await store.InsertAsync([record], CancellationToken.None);
        await store.InsertAsync([record], CancellationToken.None);
        Assert.Single(await store.SearchAsync(new TrackingQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task The_sweep_deletes_what_is_past_retention_then_the_oldest_past_the_size_bound()
    {
        var store = NewStore();
        var batch = Enumerable.Range(0, 10).Select(i =>
            TrackedTransaction.From(TestRecords.Make($"R{i}.1", i < 3 ? Now.AddDays(-40 + i) : Now.AddMinutes(-i), TransactionOutcome.Delivered), "mx.test")).ToList();
        await store.InsertAsync(batch, CancellationToken.None);
        var (expired, trimmed) = await store.SweepAsync(Now, TimeSpan.FromDays(30), maxRows: 5, CancellationToken.None);
        Assert.Equal((3, 2), (expired, trimmed));
        Assert.Equal(["R3.1", "R4.1", "R5.1", "R6.1", "R7.1"], await IdsAsync(store, new TrackingQuery()));
        Assert.Equal((0, 0), await store.SweepAsync(Now, TimeSpan.FromDays(30), maxRows: 5, CancellationToken.None));
    }

    [Fact]
    public async Task A_database_newer_than_the_gateway_is_refused_not_misread()
    {
        var config = NewConfig();
        await using (var db = TrackingDb.Open(config))
        await using (var connection = await db.OpenAsync(CancellationToken.None))
            await TrackingDb.ExecuteAsync(connection, null, "INSERT INTO schema_version (version) VALUES (99)", CancellationToken.None);
        await using var newer = TrackingDb.Open(config);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => newer.OpenAsync(CancellationToken.None));
        Assert.Contains("schema version 99", e.Message);
    }

    private static QuarantineEntry Entry(string id, DateTimeOffset time, string subject, string reason) =>
        new(id, time, "192.0.2.7", "mail.sender.test", "alice@sender.test", ["bob@example.test", "dré@example.test"], "rule:hold-invoices", 4, ["INVOICE(4)"], 20)
        {
            Subject = subject,
            Reason = reason,
            Gateway = "mx1.test",
            Expires = time.AddDays(30),
            MailParameters = new Dictionary<string, string?> { ["SMTPUTF8"] = null, ["BODY"] = "8BITMIME" },
            RcptParameters = [new Dictionary<string, string?>(), new Dictionary<string, string?>()],
        };

    [Fact]
    public async Task The_database_quarantine_keeps_entry_envelope_and_bytes_and_searches_by_subject_and_reason()
    {
        var store = new DatabaseQuarantineStore(TrackingDb.Open(NewConfig()));
        Assert.Null(await store.SaveAsync(Entry("Q1.1", Now.AddHours(-1), "Your invoice", "rule:hold-invoices: INVOICE(4)"), "Received: x\r\n",
            new MemoryStream("Subject: Your invoice\r\n\r\nbody\r\n"u8.ToArray()), CancellationToken.None));
        Assert.Null(await store.SaveAsync(Entry("Q2.1", Now, "Hello", "score 9 reached policy.thresholds.quarantine 8"), "",
            new MemoryStream("Subject: Hello\r\n\r\nbody\r\n"u8.ToArray()), CancellationToken.None));

        Assert.Equal(["Q1.1", "Q2.1"], (await store.ListAsync(new QuarantineQuery(), CancellationToken.None)).Select(e => e.Id));
        Assert.Equal(["Q1.1"], (await store.ListAsync(new QuarantineQuery { Subject = "INVOICE" }, CancellationToken.None)).Select(e => e.Id));
        Assert.Equal(["Q2.1"], (await store.ListAsync(new QuarantineQuery { Reason = "score" }, CancellationToken.None)).Select(e => e.Id));
        Assert.Equal(["Q1.1", "Q2.1"], (await store.ListAsync(new QuarantineQuery { To = "DRÉ@example" }, CancellationToken.None)).Select(e => e.Id));

        var entry = await store.FindAsync("Q1.1", CancellationToken.None);
        Assert.NotNull(entry);
        Assert.True(entry.Utf8);
        Assert.True(entry.EightBit);
        Assert.Equal(["bob@example.test", "dré@example.test"], entry.RcptTo);
        await using (var message = await store.OpenMessageAsync("Q1.1", CancellationToken.None))
            Assert.Equal("Received: x\r\nSubject: Your invoice\r\n\r\nbody\r\n", new StreamReader(message!).ReadToEnd());

        Assert.True(await store.DeleteAsync("Q1.1", CancellationToken.None));
        Assert.False(await store.DeleteAsync("Q1.1", CancellationToken.None));
        Assert.Null(await store.FindAsync("Q1.1", CancellationToken.None));
        Assert.Equal(0, await store.ExpireAsync(Now.AddDays(29), CancellationToken.None));
        Assert.Equal(1, await store.ExpireAsync(Now.AddDays(30), CancellationToken.None));
        Assert.Empty(await store.ListAsync(new QuarantineQuery(), CancellationToken.None));

        await store.AuditAsync(new QuarantineAudit(Now, "Q1.1", "delete", "alice", "deleted"), CancellationToken.None);
        Assert.Equal("alice", Assert.Single(await store.AuditTrailAsync("Q1.1", CancellationToken.None)).Actor);
    }

    [Fact]
    public async Task A_message_that_fails_while_being_read_leaves_nothing_in_the_database_quarantine()
    {
        var store = new DatabaseQuarantineStore(TrackingDb.Open(NewConfig()));
        var failure = await store.SaveAsync(Entry("F1.1", Now, "x", "y"), "", new FailingStream(Encoding.ASCII.GetBytes(new string('a', 100_000)), failAfter: 50_000), CancellationToken.None);
        Assert.NotNull(failure);
        Assert.Empty(await store.ListAsync(new QuarantineQuery(), CancellationToken.None));
    }
}

/// <summary>A readable, seekable message whose reads fail part way, as a disk or a spool file can.</summary>
public sealed class FailingStream(byte[] data, int failAfter) : MemoryStream(data)
{
    public override int Read(byte[] buffer, int offset, int count) =>
        Position >= failAfter ? throw new IOException("No space left on device") : base.Read(buffer, offset, (int)Math.Min(count, failAfter - Position));

    public override int Read(Span<byte> buffer) =>
        Position >= failAfter ? throw new IOException("No space left on device") : base.Read(buffer[..(int)Math.Min(buffer.Length, failAfter - Position)]);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer, offset, count));

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) => CopyViaReadsAsync(destination, cancellationToken);

    private async Task CopyViaReadsAsync(Stream destination, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        int n;
        while ((n = Read(buffer, 0, buffer.Length)) > 0)
            await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
    }
}

public sealed class SqliteTrackingStoreTests : TrackingStoreContract, IDisposable
{
    private readonly Support.TempDirectory _directory = new();
    private int _count;

    protected override TrackingConfig NewConfig() =>
        new(TrackingDatabase.Sqlite, Path.Combine(_directory.Path, $"t{++_count}.db"), null, TimeSpan.FromDays(30), 1_000_000, 1000, TimeSpan.FromMinutes(10));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

public sealed class PostgresTrackingStoreTests(Support.PostgresFixture postgres) : TrackingStoreContract, IClassFixture<Support.PostgresFixture>
{
    protected override TrackingConfig NewConfig() =>
        new(TrackingDatabase.Postgresql, null, postgres.Server.CreateDatabase(), TimeSpan.FromDays(30), 1_000_000, 1000, TimeSpan.FromMinutes(10));
}
