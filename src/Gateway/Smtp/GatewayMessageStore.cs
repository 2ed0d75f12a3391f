using System.Buffers;
using Gateway.Forwarding;
using Gateway.Logging;
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
public sealed class GatewayMessageStore(IUpstream upstream, ServerLifetime lifetime, ILogger logger) : IMessageStore
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
        TransactionLog.Write(logger, session, size, outcome.Reply, outcome.Detail, outcome.By);
        session.ResetTransaction();
        return outcome.Reply.ToResponse();
    }

    private async Task<Outcome> DeliverAsync(SessionState session, CancellationToken cancellationToken)
    {
        if (session.Message is null || session.Sender is null || session.Recipients.Count == 0)
            return new(Reply.LocalError, "no message", "error");
        if (session.MessageOutcome is { } refused)
            return new(refused, "not forwarded", "smtp");

        var verdict = session.Pipeline.Has(Phase.Data)
            ? await session.Pipeline.RunAsync(new FilterContext(Phase.Data, session) { Message = session.Message }, session.Evaluation, cancellationToken).ConfigureAwait(false)
            : null;
        verdict ??= session.PendingAction;
        if (verdict is not null)
        {
            switch (verdict.Kind)
            {
                case VerdictKind.Discard:
                    return new(verdict.ReplyOrDefault(), "discarded", verdict.Source);
                case VerdictKind.Quarantine:
                    // The quarantine store comes with the rule engine; until then nothing may claim to have kept it.
                    return new(Reply.LocalError, "quarantine is not available", verdict.Source);
                case VerdictKind.Disconnect:
                    session.CloseAfterReply = true;
                    return new(verdict.ReplyOrDefault(), "not forwarded", verdict.Source);
                default:
                    return new(verdict.ReplyOrDefault(), "not forwarded", verdict.Source);
            }
        }

        var policy = session.Config.Policy;
        var score = session.Evaluation.Score;
        if (policy.Thresholds.Reject is { } rejectAt && score >= rejectAt)
            return new(new Reply(554, "5.7.1", $"Message refused by policy (score {score:0.##} reaches {rejectAt:0.##})"), "not forwarded", "score");

        var envelope = new Envelope(
            session.TransactionId,
            session.Sender,
            [.. session.Recipients],
            Utf8: session.MailParameters.ContainsKey("SMTPUTF8"),
            EightBit: session.MailParameters.TryGetValue("BODY", out var body) && string.Equals(body, "8BITMIME", StringComparison.OrdinalIgnoreCase));
        var header = Forwarding.ReceivedHeader.For(session, envelope, DateTimeOffset.UtcNow) + AddedHeaders(session);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Stopping);
        await using var content = ForgedHeaders.Remove(session.Message.OpenRead(), [policy.ScoreHeader, policy.SymbolsHeader]);
        var result = await upstream.DeliverAsync(envelope, header, content, linked.Token).ConfigureAwait(false);
        return new(result.Reply, result.Detail, "upstream");
    }

    /// <summary>The reply, what happened upstream (or why nothing was sent), and who decided.</summary>
    private sealed record Outcome(Reply Reply, string Detail, string By);

    /// <summary>The headers filters asked for, and the score headers once the score reaches policy.thresholds.add_header.</summary>
    private static string AddedHeaders(SessionState session)
    {
        var evaluation = session.Evaluation;
        var policy = session.Config.Policy;
        var text = new System.Text.StringBuilder();
        foreach (var edit in evaluation.Headers)
            text.Append(edit.Name).Append(": ").Append(Forwarding.UpstreamReply.Clean(edit.Value)).Append("\r\n");
        if (policy.Thresholds.AddHeader is { } at && evaluation.Score >= at)
        {
            text.Append(policy.ScoreHeader).Append(": ").Append(evaluation.Score.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n");
            text.Append(policy.SymbolsHeader).Append(": ").Append(Forwarding.UpstreamReply.Clean(evaluation.SymbolText)).Append("\r\n");
        }
        return text.ToString();
    }
}
