namespace Gateway.Forwarding;

/// <summary>
/// upstream.recipients: realtime on the session engine: the first recipient the filters accept opens the upstream
/// transaction (MAIL FROM with the client's parameters), each recipient is relayed as it comes, and the upstream's
/// refusal is that recipient's reply. The message then goes to the recipients both sides accepted
/// (<see cref="Transaction.Upstream"/>); a transaction that ends without it is reset upstream.
/// </summary>
public sealed class RealtimeRelay(IRealtimeUpstream upstream) : IRecipientRelay
{
    /// <summary>The relay for a connection, or null when its configuration sends the whole message at the end of DATA.</summary>
    public static RealtimeRelay? For(Connection connection) =>
        connection.Config.Upstream.Recipients == Configuration.UpstreamRecipients.Realtime && connection.Upstream is IRealtimeUpstream realtime
            ? new RealtimeRelay(realtime)
            : null;

    public async ValueTask<Reply?> RecipientAsync(Transaction transaction, SmtpPath recipient, CancellationToken cancellationToken)
    {
        // The same recipient again is accepted again without a second RCPT upstream.
        if (transaction.Recipients.Any(r => string.Equals(r.Address, recipient.Address, StringComparison.OrdinalIgnoreCase)))
            return null;
        transaction.Upstream ??= upstream.Begin(transaction.Sender, MailOptions.From(transaction.Parameters));
        var reply = await transaction.Upstream.AddRecipientAsync(recipient, cancellationToken).ConfigureAwait(false);
        return reply.IsPositive ? null : reply;
    }

    public ValueTask ResetAsync(Transaction transaction)
    {
        transaction.Upstream?.Abandon();
        transaction.Upstream = null;
        return ValueTask.CompletedTask;
    }
}
