using Gateway.Pipeline;

namespace Gateway.Smtp;

/// <summary>Runs the pipeline at each SMTP phase and turns its verdict into what the session does.</summary>
public static class SessionPhases
{
    /// <summary>
    /// Connect and HELO. A reject or tempfail waits for RCPT when pipeline.delay_reject is on (the default), so
    /// that the log line has the envelope; a disconnect never waits.
    /// </summary>
    /// <returns>A reply to send now (and whether to close after it), or null to go on.</returns>
    public static async ValueTask<(Reply? Reply, bool Close)> RunSessionPhaseAsync(SessionState session, Phase phase, CancellationToken cancellationToken)
    {
        var evaluation = phase == Phase.Connect ? session.ConnectEvaluation : session.HeloEvaluation = new Evaluation();
        if (phase == Phase.Connect)
            session.Pipeline.StartAtConnect(session); // lookups for later phases start now (a no-op if started at accept)
        if (!session.Pipeline.Has(phase))
            return (null, false);
        var verdict = await session.Pipeline.RunAsync(new FilterContext(phase, session), evaluation, cancellationToken).ConfigureAwait(false);
        switch (verdict?.Kind)
        {
            case null:
                return (null, false);
            case VerdictKind.Disconnect:
                return (verdict.ReplyOrDefault(), true);
            case VerdictKind.Reject or VerdictKind.Tempfail when session.Config.Pipeline.DelayReject:
                session.PendingRejection ??= verdict;
                return (null, false);
            case VerdictKind.Reject or VerdictKind.Tempfail:
                return (verdict.ReplyOrDefault(), phase == Phase.Connect);
            default:
                session.PendingAction ??= verdict; // discard or quarantine: applies to the message
                return (null, false);
        }
    }

    /// <summary>MAIL FROM and RCPT TO: a refusal is thrown the way SmtpServer expects.</summary>
    public static async ValueTask RunEnvelopePhaseAsync(SessionState session, Phase phase, SmtpPath? recipient, CancellationToken cancellationToken)
    {
        if (!session.Pipeline.Has(phase))
            return;
        var context = new FilterContext(phase, session) { Recipient = recipient };
        var verdict = await session.Pipeline.RunAsync(context, session.Evaluation, cancellationToken).ConfigureAwait(false);
        switch (verdict?.Kind)
        {
            case null:
                return;
            case VerdictKind.Disconnect:
                session.LastRefusalBy = verdict.Source;
                session.CloseAfterReply = true;
                throw verdict.ReplyOrDefault().ToException(quit: true);
            case VerdictKind.Reject or VerdictKind.Tempfail:
                session.LastRefusalBy = verdict.Source;
                throw verdict.ReplyOrDefault().ToException();
            default:
                session.PendingAction ??= verdict;
                return;
        }
    }
}
