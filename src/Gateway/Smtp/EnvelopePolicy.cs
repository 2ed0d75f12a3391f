using SmtpServer;
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
        session.BeginTransaction(path, session.PendingParameters);
        session.TransactionCount++;
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var session = GatewayCommandFactory.Session(context);
        var path = session.PendingPath ?? throw Reply.LocalError.ToException();
        session.PendingPath = null;
        var refusal = session.Recipients.Count >= session.Config.Limits.MaxRecipients
            ? Reply.TooManyRecipients
            : RelayPolicy.Check(path, session.Remote.Address, session.Config.Relay);
        if (refusal is not null)
        {
            session.RefusedRecipients.Add($"{path} {refusal.Code} {refusal.Enhanced}");
            throw refusal.ToException();
        }
        if (path.IsBarePostmaster)
            path = path with { Domain = session.Config.Relay.Domains.FirstOrDefault() ?? session.Config.Server.Hostname };
        if (!session.Recipients.Any(r => string.Equals(r.Address, path.Address, StringComparison.OrdinalIgnoreCase)))
            session.Recipients.Add(path);
        return Task.FromResult(true);
    }
}
