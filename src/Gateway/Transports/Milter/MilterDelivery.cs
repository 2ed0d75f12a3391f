using Gateway.Forwarding;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Milter;

/// <summary>
/// The end of a transaction in milter mode, where the MTA owns queueing and delivery: nothing is forwarded. The
/// decision becomes the packets the MTA gets at the end of the message (<see cref="Packets"/>): header edits and
/// continue; header edits, SMFIR_QUARANTINE and continue for the MTA's hold queue; or, for the gateway's own
/// quarantine, the message stored first (a store that fails is a 4xx, never a loss) and then SMFIR_DISCARD so that
/// the MTA drops its copy. One per milter session.
/// </summary>
public sealed class MilterDelivery(ILogger logger, MilterQuarantine quarantine, bool leadingSpace) : IMessageHandler
{
    /// <summary>The headers of the message being decided, as the MTA sent them (set before its end).</summary>
    public IReadOnlyList<(string Name, string Value)> ReceivedHeaders { get; set; } = [];

    /// <summary>What to send the MTA for the last message the handler took; null when it refused it.</summary>
    public List<byte[]>? Packets { get; set; }

    public static readonly Reply Accepted = new(250, "2.0.0", "Ok: accepted for the MTA");

    public async Task<MessageOutcome> HandleAsync(Connection connection, Transaction transaction, DataDecision decision, CancellationToken cancellationToken)
    {
        Packets = null;
        var queue = transaction.QueueId is { } id ? $" (queue id {id})" : "";
        var edits = MilterEdits.For(decision, ReceivedHeaders, connection.Config, leadingSpace);
        if (!decision.Quarantine)
        {
            Packets = [.. edits, MilterReplies.Continue];
            return new(Accepted, $"handed back to the MTA{queue}", "mta");
        }
        if (quarantine == MilterQuarantine.Mta)
        {
            Packets = [.. edits, MilterReplies.Quarantine($"{decision.By}: held by the gateway"), MilterReplies.Continue];
            return new(Accepted, $"held in the MTA's hold queue{queue}", decision.By, "quarantined");
        }
        var config = connection.Config;
        if (!config.Quarantine.IsConfigured || transaction.Message is not { } message)
            return new(Reply.LocalError, "quarantine is not configured", decision.By); // check refuses this; never claim to have kept it
        var envelope = transaction.Envelope;
        var header = ReceivedHeader.For(connection.View, envelope, DateTimeOffset.UtcNow) + decision.AddedHeaders;
        string[] removed = [config.Policy.ScoreHeader, config.Policy.SymbolsHeader, .. decision.RemovedHeaders];
        await using var content = ForgedHeaders.Remove(message.OpenRead(), removed, decision.SubjectPrefix, config.Server.Hostname);
        var entry = Quarantine.QuarantineEntry.From(connection.View, envelope, decision.By, content.Length, DateTimeOffset.UtcNow);
        var failure = await Quarantine.QuarantineStores.For(config).SaveAsync(entry, header, content, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            logger.LogError("transaction {TransactionId}: cannot quarantine: {Error}", transaction.Id, failure);
            return new(Reply.StorageError, $"quarantine failed: {failure}", decision.By);
        }
        Packets = [MilterReplies.Discard];
        return new(config.Quarantine.Reply, $"quarantined as {entry.Id}; the MTA discards its copy{queue}", decision.By, "quarantined") { QuarantineId = entry.Id };
    }
}
