using Gateway.Pipeline;

namespace Gateway.Session;

/// <summary>Runs the pipeline at each SMTP phase and turns its verdict into what the session does.</summary>
public static class SessionPhases
{
    /// <summary>
    /// Connect and HELO. A reject or tempfail waits for RCPT when pipeline.delay_reject is on (the default), so
    /// that the log line has the envelope; a disconnect never waits.
    /// </summary>
    /// <returns>A reply to send now (and whether to close after it), or null to go on.</returns>
    public static async ValueTask<(Reply? Reply, bool Close)> RunSessionPhaseAsync(Connection connection, Phase phase, CancellationToken cancellationToken)
    {
        var evaluation = phase == Phase.Connect ? connection.ConnectEvaluation : connection.HeloEvaluation = new Evaluation();
        if (phase == Phase.Connect)
            connection.Pipeline.StartAtConnect(connection.View); // lookups for later phases start now (a no-op if started at accept)
        if (!connection.Pipeline.Has(phase))
            return (null, false);
        var verdict = await connection.Pipeline.RunAsync(new FilterContext(phase, connection.View), evaluation, cancellationToken).ConfigureAwait(false);
        switch (verdict?.Kind)
        {
            case null:
                return (null, false);
            case VerdictKind.Disconnect:
                return (verdict.ReplyOrDefault(), true);
            case VerdictKind.Reject or VerdictKind.Tempfail when connection.Config.Pipeline.DelayReject:
                connection.PendingRejection ??= verdict;
                return (null, false);
            case VerdictKind.Reject or VerdictKind.Tempfail:
                return (verdict.ReplyOrDefault(), phase == Phase.Connect);
            default:
                connection.PendingAction ??= verdict; // discard or quarantine: applies to the messages
                return (null, false);
        }
    }

    /// <summary>MAIL FROM and RCPT TO.</summary>
    /// <returns>null to go on, else the refusal (and whether to close after it); <see cref="Connection.LastRefusalBy"/> names who refused.</returns>
    public static async ValueTask<(Reply? Reply, bool Close)> RunEnvelopePhaseAsync(Connection connection, Transaction transaction, Phase phase, SmtpPath? recipient,
        CancellationToken cancellationToken)
    {
        if (!connection.Pipeline.Has(phase))
            return (null, false);
        var context = new FilterContext(phase, connection.View) { Recipient = recipient };
        var verdict = await connection.Pipeline.RunAsync(context, transaction.Evaluation, cancellationToken).ConfigureAwait(false);
        switch (verdict?.Kind)
        {
            case null:
                return (null, false);
            case VerdictKind.Disconnect:
                connection.LastRefusalBy = verdict.Source;
                return (verdict.ReplyOrDefault(), true);
            case VerdictKind.Reject or VerdictKind.Tempfail:
                connection.LastRefusalBy = verdict.Source;
                return (verdict.ReplyOrDefault(), false);
            default:
                transaction.PendingAction ??= verdict;
                return (null, false);
        }
    }
}
