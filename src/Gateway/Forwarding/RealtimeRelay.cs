namespace Gateway.Forwarding;

/// <summary>
/// upstream.recipients: realtime on the session engine: the first recipient the filters accept opens the upstream
/// transaction (MAIL FROM with the client's parameters) on that recipient's route, each recipient is relayed as it
/// comes, and the upstream's refusal is that recipient's reply. The message then goes to the recipients both sides
/// accepted (<see cref="Transaction.Upstream"/>); a transaction that ends without it is reset upstream. A route that
/// is a directory has nothing to ask per recipient: its message is written at the end of DATA.
/// </summary>
public sealed class RealtimeRelay(IUpstream upstream) : IRecipientRelay
{
    /// <summary>The route upstream <see cref="Transaction.Upstream"/> was opened on (one relay serves one session).</summary>
    private IUpstream? _openedOn;

    /// <summary>The relay for a connection, or null when its configuration sends the whole message at the end of DATA.</summary>
    public static RealtimeRelay? For(Connection connection) =>
        connection.Config.Upstream.Recipients == Configuration.UpstreamRecipients.Realtime && connection.Upstream is RoutedUpstream { Realtime: true } or IRealtimeUpstream
            ? new RealtimeRelay(connection.Upstream)
            : null;

    public async ValueTask<Reply?> RecipientAsync(Transaction transaction, SmtpPath recipient, CancellationToken cancellationToken)
    {
        // The same recipient again is accepted again without a second RCPT upstream.
        if (transaction.Recipients.Any(r => string.Equals(r.Address, recipient.Address, StringComparison.OrdinalIgnoreCase)))
            return null;
        // The engine has checked that this recipient's route is the transaction's, or that no recipient is accepted
        // yet: then an upstream transaction opened on another route (whose recipients were all refused) is reset.
        var target = upstream is RoutedUpstream routed ? routed.For(recipient) : upstream;
        if (transaction.Upstream is not null && !ReferenceEquals(target, _openedOn) && transaction.Recipients.Count == 0)
        {
            transaction.Upstream.Abandon();
            transaction.Upstream = null;
        }
        if (transaction.Upstream is null)
        {
            if (target is not IRealtimeUpstream realtime)
                return null;
            transaction.Upstream = realtime.Begin(transaction.Sender, MailOptions.From(transaction.Parameters));
            _openedOn = target;
        }
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
