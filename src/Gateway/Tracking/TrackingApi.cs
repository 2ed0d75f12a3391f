using Gateway.Runtime;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Quarantine;
using Microsoft.Extensions.Logging;

namespace Gateway.Tracking;

/// <summary>What came of a release or a delete, in words for a person.</summary>
public sealed record QuarantineActionResult(bool Done, string Id, string Message, Reply? Reply = null);

/// <summary>
/// The queries an administrator's tools make, in one place for the command line and the web console: search the
/// tracking store and get one transaction with its evidence; list, search, show, release and delete held messages.
/// Releases and deletions are logged with who did them and kept in the quarantine's audit trail.
/// </summary>
public sealed class TrackingApi(GatewayConfig config, ILogger logger, IEnumerable<IQuarantineReleaseObserver>? observers = null, TimeProvider? time = null)
{
    private readonly IReadOnlyList<IQuarantineReleaseObserver> _observers = [.. observers ?? []];
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public bool HasTracking => config.Tracking is not null;

    public bool HasQuarantine => config.Quarantine.IsConfigured;

    private TrackingStore Store => new(TrackingDbs.For(config.Tracking ?? throw new InvalidOperationException("no 'tracking' section is configured")));

    public IQuarantineStore Quarantine => QuarantineStores.For(config);

    public Task<IReadOnlyList<TrackedTransaction>> SearchAsync(TrackingQuery query, CancellationToken cancellationToken) => Store.SearchAsync(query, cancellationToken);

    /// <summary>One transaction by its id, or the newest one whose session, quarantine id or Message-ID it is.</summary>
    public async Task<TrackedTransaction?> GetAsync(string id, CancellationToken cancellationToken) =>
        await Store.GetAsync(id, cancellationToken).ConfigureAwait(false)
        ?? (await Store.SearchAsync(new TrackingQuery { Id = id, Limit = 1 }, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public Task<IReadOnlyList<QuarantineEntry>> ListQuarantineAsync(QuarantineQuery query, CancellationToken cancellationToken) => Quarantine.ListAsync(query, cancellationToken);

    public Task<QuarantineEntry?> GetQuarantinedAsync(string id, CancellationToken cancellationToken) => Quarantine.FindAsync(id, cancellationToken);

    public Task<Stream?> OpenQuarantinedMessageAsync(string id, CancellationToken cancellationToken) => Quarantine.OpenMessageAsync(id, cancellationToken);

    /// <summary>
    /// Sends a held message upstream with its original envelope; once the upstream accepted, tells the observers
    /// (the classifier learns it as ham) and deletes it. <paramref name="upstream"/>: null for the configured one.
    /// </summary>
    public async Task<QuarantineActionResult> ReleaseAsync(string id, string by, IUpstream? upstream, CancellationToken cancellationToken)
    {
        var store = Quarantine;
        if (await store.FindAsync(id, cancellationToken).ConfigureAwait(false) is not { } entry)
            return new(false, id, $"no quarantined message '{id}'");
        if (QuarantineRelease.EnvelopeOf(entry) is not { } envelope)
            return await AuditAsync(store, new(false, id, "the stored envelope is not usable"), "release", by, cancellationToken).ConfigureAwait(false);
        await using var message = await store.OpenMessageAsync(id, cancellationToken).ConfigureAwait(false);
        if (message is null)
            return new(false, id, $"no quarantined message '{id}'");
        UpstreamResult result;
        var own = upstream is null;
        upstream ??= GatewayServer.CreateUpstream(config, logger);
        try
        {
            result = await upstream.DeliverAsync(envelope, QuarantineRelease.TraceHeader(entry, _time.GetUtcNow()), message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (own)
                await upstream.DisposeAsync().ConfigureAwait(false);
        }
        if (!result.Delivered)
            return await AuditAsync(store, new(false, id, $"not released: {result.Reply} ({result.Detail})", result.Reply), "release", by, cancellationToken).ConfigureAwait(false);
        foreach (var observer in _observers)
        {
            try
            {
                message.Position = 0;
                await observer.MessageReleasedAsync(entry, message, by, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("quarantine release id={Id}: {Observer} failed: {Error}", id, observer.GetType().Name, e.Message);
            }
        }
        await store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        return await AuditAsync(store, new(true, id, $"released: {result.Reply} ({result.Detail})", result.Reply), "release", by, cancellationToken).ConfigureAwait(false);
    }

    public async Task<QuarantineActionResult> DeleteAsync(string id, string by, CancellationToken cancellationToken)
    {
        var store = Quarantine;
        if (!await store.DeleteAsync(id, cancellationToken).ConfigureAwait(false))
            return new(false, id, $"no quarantined message '{id}'");
        return await AuditAsync(store, new(true, id, "deleted"), "delete", by, cancellationToken).ConfigureAwait(false);
    }

    private async Task<QuarantineActionResult> AuditAsync(IQuarantineStore store, QuarantineActionResult result, string action, string by, CancellationToken cancellationToken)
    {
        logger.LogInformation("quarantine {Action} id={Id} by={By} done={Done}: {Result}", action, result.Id, by, result.Done, result.Message);
        try
        {
            await store.AuditAsync(new QuarantineAudit(_time.GetUtcNow(), result.Id, action, by, result.Message), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("quarantine {Action} id={Id} by={By}: the audit trail could not be written: {Error}", action, result.Id, by, e.Message);
        }
        return result;
    }
}
