using Gateway.Forwarding;
using Microsoft.Extensions.Logging;

namespace Gateway.Session;

/// <summary>
/// The live end of a transaction: the message goes to the upstream of the connection's configuration (its answer
/// becomes the client's), or into the quarantine.
/// </summary>
public sealed class MessageDelivery(ILogger logger, CancellationToken stopping, TimeProvider? time = null) : IMessageHandler
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<MessageOutcome> HandleAsync(Connection connection, Transaction transaction, DataDecision decision, CancellationToken cancellationToken)
    {
        if (transaction.Message is not { } message)
            return new(Reply.LocalError, "no message", "error");
        var envelope = transaction.Envelope;
        var header = ReceivedHeader.For(connection.View, envelope, connection.Time.GetUtcNow()) + decision.AddedHeaders;
        var policy = connection.Config.Policy;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        string[] removed = [policy.ScoreHeader, policy.SymbolsHeader, "X-Spam-Flag", .. decision.RemovedHeaders];
        await using var content = ForgedHeaders.Remove(message.OpenRead(), removed, decision.SubjectPrefix, connection.Config.Server.Hostname);
        if (decision.Quarantine)
            return await QuarantineAsync(connection, transaction, envelope, header, content, decision.By, linked.Token).ConfigureAwait(false);
        if (connection.Upstream is not { } upstream)
            return new(Reply.LocalError, "no upstream", "error");
        var signed = await SignAsync(connection.View, transaction, content, linked.Token).ConfigureAwait(false);
        // Realtime: the recipients are upstream already, and the message goes to those both sides accepted. Every
        // other ending (a refusal, the quarantine, an error) abandons it with the transaction: RSET upstream.
        var result = transaction.Upstream is { } relayed
            ? await relayed.SendAsync(signed.Headers + header, content, linked.Token).ConfigureAwait(false)
            : await upstream.DeliverAsync(envelope, signed.Headers + header, content, linked.Token).ConfigureAwait(false);
        return new(result.Reply, signed.Note.Length == 0 ? result.Detail : $"{signed.Note}; {result.Detail}", "upstream");
    }

    /// <summary>
    /// DKIM signature or ARC seal. A message that cannot be signed goes out unsigned with a warning: the same
    /// message would fail again, so deferring it would only make the sender retry for days.
    /// </summary>
    private async Task<Signing.SigningResult> SignAsync(SessionState session, Transaction transaction, Stream content, CancellationToken cancellationToken)
    {
        try
        {
            return await Signing.MessageSigning.HeadersAsync(session, content, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or Org.BouncyCastle.Crypto.CryptoException)
        {
            content.Position = 0;
            logger.LogWarning("transaction {TransactionId}: not signed: {Error}", transaction.Id, e.Message);
            return new Signing.SigningResult("", $"not signed: {UpstreamReply.Clean(e.Message)}");
        }
    }

    private async Task<MessageOutcome> QuarantineAsync(Connection connection, Transaction transaction, Envelope envelope, string header, Stream content, string by,
        CancellationToken cancellationToken)
    {
        var config = connection.Config.Quarantine;
        if (!config.IsConfigured)
            return new(Reply.LocalError, "quarantine is not configured", by); // check refuses this; never claim to have kept it
        var entry = Quarantine.QuarantineEntry.From(connection.View, envelope, by, content.Length, connection.Time.GetUtcNow());
        var failure = await Quarantine.QuarantineStores.For(connection.Config).SaveAsync(entry, header, content, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            logger.LogError("transaction {TransactionId}: cannot quarantine: {Error}", transaction.Id, failure);
            return new(Reply.StorageError, $"quarantine failed: {failure}", by);
        }
        return new(config.Reply, $"quarantined as {entry.Id}", by, "quarantined") { QuarantineId = entry.Id };
    }
}
