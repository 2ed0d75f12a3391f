using System.Buffers;
using Gateway.Forwarding;
using Gateway.Logging;
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
        Reply reply;
        string detail;
        try
        {
            (reply, detail) = await DeliverAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.IsStopping || cancellationToken.IsCancellationRequested)
        {
            (reply, detail) = (Reply.ShuttingDown, "cancelled");
        }
        catch (Exception e)
        {
            logger.LogError(e, "transaction {TransactionId}: unexpected error", session.TransactionId);
            (reply, detail) = (Reply.LocalError, $"error: {e.GetType().Name}");
        }
        TransactionLog.Write(logger, session, size, reply, detail);
        session.ResetTransaction();
        return reply.ToResponse();
    }

    private async Task<(Reply, string)> DeliverAsync(SessionState session, CancellationToken cancellationToken)
    {
        if (session.Message is null || session.Sender is null || session.Recipients.Count == 0)
            return (Reply.LocalError, "no message");
        if (session.MessageOutcome is { } refused)
            return (refused, "not forwarded");

        var envelope = new Envelope(
            session.TransactionId,
            session.Sender,
            [.. session.Recipients],
            Utf8: session.MailParameters.ContainsKey("SMTPUTF8"),
            EightBit: session.MailParameters.TryGetValue("BODY", out var body) && string.Equals(body, "8BITMIME", StringComparison.OrdinalIgnoreCase));
        var header = Forwarding.ReceivedHeader.For(session, envelope, DateTimeOffset.UtcNow);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Stopping);
        await using var content = session.Message.OpenRead();
        var result = await upstream.DeliverAsync(envelope, header, content, linked.Token).ConfigureAwait(false);
        return (result.Reply, result.Detail);
    }
}
