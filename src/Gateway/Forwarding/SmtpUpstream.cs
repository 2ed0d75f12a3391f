using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Smtp;
using Envelope = Gateway.Core.Envelope;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Gateway.Forwarding;

/// <summary>
/// Relays each message to the upstream MTA within the client's session (before-queue, as Postfix's
/// smtpd_proxy_filter does). Connections are kept in a pool and reused (MailKit starts each transaction with a
/// new MAIL FROM, and resets after a refusal). Hosts are tried in order until one accepts a connection.
/// </summary>
public sealed class SmtpUpstream(UpstreamConfig config, string localDomain, ILogger logger) : IUpstream
{
    private readonly ConcurrentBag<RelayClient> _idle = [];
    private int _idleCount;
    private volatile bool _disposed;

    public async Task<UpstreamResult> DeliverAsync(Envelope envelope, string header, Stream message, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var mime = RawMessageBody.Wrap(header, message);
        var size = Encoding.UTF8.GetByteCount(header) + message.Length;
        var sender = ToMailbox(envelope.Sender);
        var recipients = envelope.Recipients.Select(ToMailbox).ToList();
        var options = FormatOptions.Default.Clone();
        options.International = envelope.Utf8;

        // A pooled connection may have been closed by the upstream while idle; if it fails before the upstream
        // accepted MAIL FROM nothing was delivered, so one retry on a fresh connection is safe.
        for (var attempt = 0; ; attempt++)
        {
            var (client, reused, failure) = await AcquireAsync(allowPooled: attempt == 0, cancellationToken).ConfigureAwait(false);
            if (client is null)
                return new UpstreamResult(Reply.UpstreamUnavailable, failure ?? "no upstream host");
            client.BeginSend();
            client.KnownSize = size;
            try
            {
                var text = await client.SendAsync(options, mime, sender, recipients, cancellationToken).ConfigureAwait(false);
                Release(client);
                Admin.GatewayMetrics.UpstreamAnswered(client.Host, started);
                return new UpstreamResult(UpstreamReply.From(250, text), $"{client.Host} accepted");
            }
            catch (SmtpCommandException e)
            {
                // MailKit has sent RSET: the connection is still good.
                Release(client);
                Admin.GatewayMetrics.UpstreamAnswered(client.Host, started);
                var code = (int)e.StatusCode;
                if (code == 421)
                    code = 451; // the upstream closing on us is our problem to retry, not our client's to close
                var reply = UpstreamReply.From(code, e.Message);
                var who = e.ErrorCode switch
                {
                    SmtpErrorCode.RecipientNotAccepted => $"recipient {e.Mailbox?.Address} refused",
                    SmtpErrorCode.SenderNotAccepted => "sender refused",
                    _ => "message refused",
                };
                return new UpstreamResult(reply, $"{client.Host} {who}: {reply}");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Discard(client); // stopped mid-conversation: the connection's state is unknown
                throw;
            }
            catch (Exception e)
            {
                var beforeTransaction = !client.SenderAccepted;
                Discard(client);
                Admin.GatewayMetrics.UpstreamFailed(client.Host);
                if (reused && beforeTransaction)
                {
                    logger.LogDebug("pooled connection to {Host} failed ({Error}); retrying on a new one", client.Host, e.Message);
                    continue;
                }
                return new UpstreamResult(Reply.UpstreamUnavailable, $"{client.Host} failed: {UpstreamReply.Clean(e.Message)}");
            }
        }
    }

    private async Task<(RelayClient? Client, bool Reused, string? Failure)> AcquireAsync(bool allowPooled, CancellationToken cancellationToken)
    {
        if (allowPooled)
        {
            while (_idle.TryTake(out var pooled))
            {
                Interlocked.Decrement(ref _idleCount);
                if (pooled.IsConnected && DateTime.UtcNow - pooled.LastUsed < config.IdleTimeout)
                    return (pooled, true, null);
                Discard(pooled);
            }
        }

        var failures = new List<string>();
        foreach (var host in config.Hosts)
        {
            var client = new RelayClient
            {
                Host = host.ToString(),
                LocalDomain = localDomain,
                Timeout = (int)config.Timeout.TotalMilliseconds,
            };
            if (!config.VerifyCertificate)
                client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            try
            {
                var secure = config.Tls switch
                {
                    UpstreamTls.None => SecureSocketOptions.None,
                    UpstreamTls.Required => SecureSocketOptions.StartTls,
                    _ => SecureSocketOptions.StartTlsWhenAvailable,
                };
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(config.Timeout);
                // Our own socket, for TCP_NODELAY: without it Nagle holds the final ".\r\n" until the upstream's
                // delayed ACK, about 40 ms a message.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(host.Host, host.Port, timeout.Token).ConfigureAwait(false);
                    await client.ConnectAsync(socket, host.Host, host.Port, secure, timeout.Token).ConfigureAwait(false);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                return (client, false, null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var reason = e is OperationCanceledException ? "connect timed out" : UpstreamReply.Clean(e.Message);
                logger.LogWarning("upstream {Host} unavailable: {Error}", host, reason);
                failures.Add($"{host}: {reason}");
                Admin.GatewayMetrics.UpstreamFailed(host.ToString());
                client.Dispose();
            }
        }
        return (null, false, string.Join("; ", failures));
    }

    private void Release(RelayClient client)
    {
        client.LastUsed = DateTime.UtcNow;
        if (_disposed)
        {
            Discard(client); // a retired pool (the upstream changed): its connections close as they come back
            return;
        }
        if (client.IsConnected && Interlocked.Increment(ref _idleCount) <= config.PoolSize)
        {
            _idle.Add(client);
            return;
        }
        if (client.IsConnected)
            Interlocked.Decrement(ref _idleCount);
        Discard(client);
    }

    private void Discard(RelayClient client)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                if (client.IsConnected)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.DisconnectAsync(true, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException)
            {
            }
            finally
            {
                client.Dispose();
            }
        });
    }

    private static MailboxAddress ToMailbox(SmtpPath path)
    {
        if (path.IsNull)
            return new MailboxAddress("", "");
        return new MailboxAddress("", path.Address);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out var client))
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(true, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException)
            {
            }
            client.Dispose();
        }
    }
}
