using Gateway.Pipeline;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// SmtpServer's MAIL and RCPT hook. It decides on the address the gateway parsed (<see cref="SessionState.PendingPath"/>),
/// not on SmtpServer's mailbox, and records what it accepts in the session. Refusals are thrown as
/// <see cref="SmtpServer.Protocol.SmtpResponseException"/>, the only way SmtpServer lets a filter choose the reply.
/// </summary>
public sealed class EnvelopePolicy : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        var session = GatewayCommandFactory.Session(context);
        var path = session.PendingPath ?? throw Reply.LocalError.ToException();
        session.PendingPath = null;
        return AcceptSenderAsync(session, path, session.PendingParameters, cancellationToken);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var session = GatewayCommandFactory.Session(context);
        var path = session.PendingPath ?? throw Reply.LocalError.ToException();
        session.PendingPath = null;
        return AcceptRecipientAsync(session, path, cancellationToken);
    }

    /// <summary>MAIL FROM: starts the transaction and runs the mail_from filters; a refusal is thrown.</summary>
    public static async Task<bool> AcceptSenderAsync(SessionState session, SmtpPath path, IReadOnlyDictionary<string, string?> parameters, CancellationToken cancellationToken)
    {
        session.BeginTransaction(path, parameters);
        session.TransactionCount++;
        try
        {
            await SessionPhases.RunEnvelopePhaseAsync(session, Phase.MailFrom, null, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            session.ResetTransaction(); // SmtpServer has no transaction either
            throw;
        }
        return true;
    }

    /// <summary>RCPT TO: a delayed rejection, the recipient limit, relay control, then the rcpt_to filters.</summary>
    public static async Task<bool> AcceptRecipientAsync(SessionState session, SmtpPath path, CancellationToken cancellationToken)
    {
        session.LastRefusalBy = session.PendingRejection?.Source ?? "relay";
        var refusal = session.PendingRejection?.ReplyOrDefault()
            ?? (session.Recipients.Count >= session.Config.Limits.MaxRecipients
                ? Reply.TooManyRecipients
                : RelayPolicy.Check(path, session.Remote.Address, session.Config.Relay));
        if (refusal is not null)
            throw Refused(session, path, refusal.ToException());
        try
        {
            await SessionPhases.RunEnvelopePhaseAsync(session, Phase.RcptTo, path, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpResponseException e)
        {
            throw Refused(session, path, e);
        }
        if (path.IsBarePostmaster)
            path = path with { Domain = session.Config.Relay.Domains.FirstOrDefault() ?? session.Config.Server.Hostname };
        if (!session.Recipients.Any(r => string.Equals(r.Address, path.Address, StringComparison.OrdinalIgnoreCase)))
        {
            if (await RelayUpstreamAsync(session, path, cancellationToken).ConfigureAwait(false) is { } upstreamRefusal)
            {
                session.LastRefusalBy = "upstream";
                throw Refused(session, path, upstreamRefusal.ToException());
            }
            session.Recipients.Add(path);
        }
        return true;
    }

    /// <summary>
    /// upstream.recipients: realtime: the recipient goes upstream now (the first one opens the upstream transaction),
    /// and the upstream's refusal is this recipient's reply. Null when it was accepted (or in at_end_of_data mode).
    /// </summary>
    private static async Task<Reply?> RelayUpstreamAsync(SessionState session, SmtpPath path, CancellationToken cancellationToken)
    {
        if (session.Config.Upstream.Recipients != Configuration.UpstreamRecipients.Realtime || session.Upstream is not Forwarding.IRealtimeUpstream upstream)
            return null;
        session.UpstreamTransaction ??= upstream.Begin(session.Sender!, Forwarding.MailOptions.From(session.MailParameters));
        var reply = await session.UpstreamTransaction.AddRecipientAsync(path, cancellationToken).ConfigureAwait(false);
        return reply.IsPositive ? null : reply;
    }

    private static SmtpResponseException Refused(SessionState session, SmtpPath path, SmtpResponseException e)
    {
        var text = e.Response.Message.Split(' ', 2);
        var reply = new Reply((int)e.Response.ReplyCode, text[0], text.Length > 1 ? text[1] : "");
        session.RefusedRecipients.Add(new RefusedRecipient(path, reply, session.LastRefusalBy ?? "smtp"));
        return e;
    }
}
