using System.Text;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Forwarding;

/// <summary>
/// Relays mail to the upstream MTA within the client's session (before-queue, as Postfix's smtpd_proxy_filter
/// does), over pooled connections (<see cref="UpstreamPool"/>). Two ways: <see cref="Begin"/> relays each recipient
/// as the client names it (upstream.recipients: realtime), <see cref="DeliverAsync"/> relays the whole message at
/// the end of DATA (at_end_of_data, and the quarantine's release), where one recipient refused upstream refuses the
/// message for all.
/// </summary>
public sealed class SmtpUpstream(UpstreamConfig config, string localDomain, ILogger logger, TimeProvider? time = null) : IUpstream, IRealtimeUpstream
{
    private readonly UpstreamPool _pool = new(config, localDomain, logger, time);

    /// <summary>The connections (for tests: idle count, configuration).</summary>
    public UpstreamPool Pool => _pool;

    public UpstreamTransaction Begin(SmtpPath sender, MailOptions options) => new(_pool, logger, sender, options);

    public async Task<UpstreamResult> DeliverAsync(Envelope envelope, string header, Stream message, CancellationToken cancellationToken)
    {
        var size = Encoding.UTF8.GetByteCount(header) + message.Length;
        var transaction = Begin(envelope.Sender, new MailOptions(size, envelope.EightBit ? "8BITMIME" : null, envelope.Utf8));
        try
        {
            foreach (var recipient in envelope.Recipients)
            {
                var reply = await transaction.AddRecipientAsync(recipient, cancellationToken).ConfigureAwait(false);
                if (!reply.IsPositive)
                {
                    // Never delivered to some while the client hears that it failed: the whole message is refused.
                    transaction.Abandon();
                    return new UpstreamResult(reply, transaction.FailureDetail ?? $"recipient {recipient.Address} refused: {reply}");
                }
            }
            return await transaction.SendAsync(header, message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            transaction.Abandon(); // no-op once sent; resets the upstream when cancelled midway
        }
    }

    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
