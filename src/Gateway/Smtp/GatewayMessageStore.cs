using System.Buffers;
using Gateway.Forwarding;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// SmtpServer's end-of-data hook. The message itself was read by the <see cref="GuardedReader"/> into the session
/// (SmtpServer's buffer is an empty placeholder); here it is forwarded, and the upstream's answer becomes ours.
/// </summary>
public sealed class GatewayMessageStore(IUpstream upstream, ServerLifetime lifetime, ILogger logger, Tracking.ITransactionSink transactions) : IMessageStore
{
    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var session = GatewayCommandFactory.Session(context);
        var size = session.Message?.Length ?? 0;
        Outcome outcome;
        try
        {
            outcome = await DeliverAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.IsStopping || cancellationToken.IsCancellationRequested)
        {
            outcome = new(Reply.ShuttingDown, "cancelled", "shutdown");
        }
        catch (Exception e)
        {
            logger.LogError(e, "transaction {TransactionId}: unexpected error", session.TransactionId);
            outcome = new(Reply.LocalError, $"error: {e.GetType().Name}", "error");
        }
        transactions.Record(Tracking.TransactionRecords.From(session, size, outcome.Reply, outcome.Detail, outcome.By, outcome.Kind, outcome.QuarantineId));
        session.ResetTransaction();
        return outcome.Reply.ToResponse();
    }

    private async Task<Outcome> DeliverAsync(SessionState session, CancellationToken cancellationToken)
    {
        if (session.Message is null || session.Sender is null || session.Recipients.Count == 0)
            return new(Reply.LocalError, "no message", "error");
        var decision = await DataPhase.DecideAsync(session, cancellationToken).ConfigureAwait(false);
        if (decision.Refusal is { } refusal)
            return new(refusal, decision.Detail, decision.By);

        var envelope = DataPhase.EnvelopeOf(session);
        var header = Forwarding.ReceivedHeader.For(session, envelope, DateTimeOffset.UtcNow) + decision.AddedHeaders;
        var policy = session.Config.Policy;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Stopping);
        await using var content = ForgedHeaders.Remove(session.Message.OpenRead(), [policy.ScoreHeader, policy.SymbolsHeader, "X-Spam-Flag"], decision.SubjectPrefix,
            session.Config.Server.Hostname);
        if (decision.Quarantine)
            return await QuarantineAsync(session, envelope, header, content, decision.By, linked.Token).ConfigureAwait(false);
        var result = await (session.Upstream ?? upstream).DeliverAsync(envelope, header, content, linked.Token).ConfigureAwait(false);
        return new(result.Reply, result.Detail, "upstream");
    }

    private async Task<Outcome> QuarantineAsync(SessionState session, Envelope envelope, string header, Stream content, string by, CancellationToken cancellationToken)
    {
        var config = session.Config.Quarantine;
        if (config.Directory is null)
            return new(Reply.LocalError, "quarantine is not configured", by); // check refuses this; never claim to have kept it
        var entry = new Quarantine.QuarantineEntry(envelope.TransactionId, DateTimeOffset.UtcNow, session.Remote.Address.ToString(), session.Helo ?? "",
            envelope.Sender.Address, [.. envelope.Recipients.Select(r => r.Address)], by, Math.Round(session.Evaluation.Score, 2),
            [.. session.Evaluation.Symbols.Select(s => s.ToString())], content.Length);
        var failure = await new Quarantine.QuarantineStore(config.Directory).SaveAsync(entry, header, content, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            logger.LogError("transaction {TransactionId}: cannot quarantine: {Error}", session.TransactionId, failure);
            return new(Reply.StorageError, $"quarantine failed: {failure}", by);
        }
        return new(config.Reply, $"quarantined as {entry.Id}", by, "quarantined") { QuarantineId = entry.Id };
    }

    /// <summary>The reply, what happened upstream (or why nothing was sent), and who decided.</summary>
    private sealed record Outcome(Reply Reply, string Detail, string By, string? Kind = null)
    {
        public string? QuarantineId { get; init; }
    }
}
