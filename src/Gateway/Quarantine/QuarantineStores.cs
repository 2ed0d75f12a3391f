using Gateway.Configuration;
using Gateway.Tracking;

namespace Gateway.Quarantine;

/// <summary>The quarantine store a configuration names: its directory, or the tracking database.</summary>
public static class QuarantineStores
{
    /// <summary>Throws <see cref="InvalidOperationException"/> when no quarantine is configured (check refuses a filter that could need one).</summary>
    public static IQuarantineStore For(GatewayConfig config) => config.Quarantine switch
    {
        { Store: QuarantineBackend.Database } when config.Tracking is { } tracking => new DatabaseQuarantineStore(TrackingDbs.For(tracking)),
        { Directory: { } directory } => new DirectoryQuarantineStore(directory),
        _ => throw new InvalidOperationException("no quarantine is configured (quarantine.directory, or quarantine.store: database)"),
    };
}
