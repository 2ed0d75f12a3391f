using Gateway.Configuration;
using Gateway.Quarantine;
using Gateway.Tests.Support;
using Gateway.Tracking;

namespace Gateway.Tests.Tracking;

public class TrackingConfigTests
{
    private const string Base = "relay: { domains: [example.test] }\nupstream: { directory: out }\n";

    private static ConfigResult Load(string yaml) => ConfigLoader.Load(Base + yaml, "g.yaml", "/srv/gw");

    [Fact]
    public void Tracking_is_off_without_the_section_and_sqlite_beside_the_configuration_with_it()
    {
        Assert.Null(Load("").Config!.Tracking);
        var tracking = Load("tracking: {}\n").Config!.Tracking!;
        Assert.Equal((TrackingDatabase.Sqlite, "/srv/gw/tracking.db", TimeSpan.FromDays(30), 1_000_000L), (tracking.Database, tracking.Path, tracking.Retention, tracking.MaxRows));
        var pg = Load("tracking:\n  database: postgresql\n  connection_string: \"Host=db;Database=gw;Username=gw;Password=secret\"\n  retention: 7d\n  max_rows: 5000\n").Config!.Tracking!;
        Assert.Equal((TrackingDatabase.Postgresql, TimeSpan.FromDays(7), 5000L), (pg.Database, pg.Retention, pg.MaxRows));
        Assert.DoesNotContain("secret", pg.Describe());
    }

    [Fact]
    public void Mistakes_in_tracking_and_the_database_quarantine_are_errors_with_their_line()
    {
        var errors = Load("tracking:\n  database: postgresql\n  retention: 10s\n").Errors;
        Assert.Contains(errors, e => e.Message.Contains("needs 'tracking.connection_string'") && e.Line == 4);
        Assert.Contains(errors, e => e.Message.Contains("'tracking.retention' must be at least 1m") && e.Line == 5);
        Assert.Contains(Load("tracking:\n  connection_string: \"Host=x\"\n").Errors, e => e.Message.Contains("is for 'database: postgresql'"));
        Assert.Contains(Load("quarantine:\n  store: database\n").Errors, e => e.Message.Contains("add a 'tracking' section"));
        var held = Load("quarantine:\n  store: database\n  retention: 14d\ntracking: {}\n").Config!.Quarantine;
        Assert.Equal((QuarantineBackend.Database, TimeSpan.FromDays(14), true), (held.Store, held.Retention, held.IsConfigured));
    }

    [Fact]
    public async Task A_reload_that_adds_tracking_starts_recording_and_one_that_removes_it_stops()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        Assert.Null(gateway.Server.Tracking.Writer);
        var config = Path.Combine(gateway.Directory, "gateway.yaml");
        File.AppendAllText(config, "\ntracking:\n  path: t.db\n");
        Assert.True(gateway.Server.Reload());
        var writer = gateway.Server.Tracking.Writer;
        Assert.NotNull(writer);
        await Mail.SendAsync(gateway.Port, Mail.Message()); // throws if refused
        await probe.WaitForAsync(_ => true);
        Assert.True(gateway.Server.Reload()); // unchanged: the same writer keeps its queue
        Assert.Same(writer, gateway.Server.Tracking.Writer);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        File.WriteAllText(config, File.ReadAllText(config).Replace("tracking:\n  path: t.db\n", "", StringComparison.Ordinal));
        Assert.True(gateway.Server.Reload());
        Assert.Null(gateway.Server.Tracking.Writer);
        await using var db = TrackingDb.Open(new TrackingConfig(TrackingDatabase.Sqlite, Path.Combine(gateway.Directory, "t.db"), null, TimeSpan.FromDays(1), 100, 10, TimeSpan.FromMinutes(1)));
        Assert.Single(await new TrackingStore(db).SearchAsync(new TrackingQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task Held_messages_past_retention_expire_from_the_directory_quarantine()
    {
        using var directory = new TempDirectory();
        var store = new DirectoryQuarantineStore(directory.Path);
        var now = DateTimeOffset.UtcNow;
        foreach (var (id, age) in new[] { ("OLD.1", 40), ("NEW.1", 1) })
        {
            var entry = new QuarantineEntry(id, now.AddDays(-age), "192.0.2.1", "h", "a@b.test", ["c@example.test"], "rule:x", 0, [], 4) { Expires = now.AddDays(30 - age) };
            Assert.Null(await store.SaveAsync(entry, "", new MemoryStream("x\r\n"u8.ToArray()), CancellationToken.None));
        }
        Assert.Equal(1, await store.ExpireAsync(now, CancellationToken.None));
        Assert.Equal(["NEW.1"], (await store.ListAsync(new QuarantineQuery(), CancellationToken.None)).Select(e => e.Id));
        Assert.False(File.Exists(store.MessagePath("OLD.1")));
    }
}
