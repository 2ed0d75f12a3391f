using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>Keeps the gateway's view of the transaction in step with SmtpServer's state machine.</summary>
public static class SessionEvents
{
    public static void OnCommandExecuting(SessionState session, SmtpCommand command)
    {
        session.LastCommand = command.Name;
        if (command is RsetCommand or HeloCommand or EhloCommand)
            session.ResetTransaction();
    }
}
