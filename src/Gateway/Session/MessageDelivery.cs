using Gateway.Forwarding;
using Microsoft.Extensions.Logging;

namespace Gateway.Session;

/// <summary>
/// The live end of a transaction: the message goes to the upstream of the connection's configuration (its answer
/// becomes the client's), or into the quarantine.
/// </summary>
public sealed class MessageDelivery(ILogger logger, CancellationToken stopping) : IMessageHandler
{
    public async Task<MessageOutcome> HandleAsync(Connection connection, Transaction transaction, DataDecision decision, CancellationToken cancellationToken)
    {
        if (transaction.Message is not { } message)
            return new(Reply.LocalError, "no message", "error");
        var envelope = transaction.Envelope;
        var header = ReceivedHeader.For(connection.View, envelope, DateTimeOffset.UtcNow) + decision.AddedHeaders;
        var policy = connection.Config.Policy;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        string[] removed = [policy.ScoreHeader, policy.SymbolsHeader, .. decision.RemovedHeaders];
        await using var content = ForgedHeaders.Remove(message.OpenRead(), removed, decision.SubjectPrefix, connection.Config.Server.Hostname);
        if (decision.Quarantine)
            return await QuarantineAsync(connection, transaction, envelope, header, content, decision.By, linked.Token).ConfigureAwait(false);
        if (connection.Upstream is not { } upstream)
            return new(Reply.LocalError, "no upstream", "error");
        var result = await upstream.DeliverAsync(envelope, header, content, linked.Token).ConfigureAwait(false);
        return new(result.Reply, result.Detail, "upstream");
    }

    private async Task<MessageOutcome> QuarantineAsync(Connection connection, Transaction transaction, Envelope envelope, string header, Stream content, string by,
        CancellationToken cancellationToken)
    {
        var config = connection.Config.Quarantine;
        if (config.Directory is null)
            return new(Reply.LocalError, "quarantine is not configured", by); // check refuses this; never claim to have kept it
        var entry = new Quarantine.QuarantineEntry(envelope.TransactionId, DateTimeOffset.UtcNow, connection.Remote.Address.ToString(), connection.Helo ?? "",
            envelope.Sender.Address, [.. envelope.Recipients.Select(r => r.Address)], by, Math.Round(transaction.Evaluation.Score, 2),
            [.. transaction.Evaluation.Symbols.Select(s => s.ToString())], content.Length);
        var failure = await new Quarantine.QuarantineStore(config.Directory).SaveAsync(entry, header, content, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            logger.LogError("transaction {TransactionId}: cannot quarantine: {Error}", transaction.Id, failure);
            return new(Reply.StorageError, $"quarantine failed: {failure}", by);
        }
        return new(config.Reply, $"quarantined as {entry.Id}", by, "quarantined") { QuarantineId = entry.Id };
    }
}
