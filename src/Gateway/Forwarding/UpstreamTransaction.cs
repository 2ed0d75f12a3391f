using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Gateway.Forwarding;

/// <summary>The MAIL FROM parameters of the client that the relay passes on (each only when the upstream offers it).</summary>
public readonly record struct MailOptions(long? Size, string? Body, bool Utf8)
{
    /// <summary>From the client's MAIL parameters (case-insensitive keys; SIZE, BODY and SMTPUTF8 are looked at).</summary>
    public static MailOptions From(IReadOnlyDictionary<string, string?> parameters)
    {
        long? size = null;
        foreach (var (key, value) in parameters)
        {
            if (key.Equals("SIZE", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                size = n;
        }
        string? body = null;
        foreach (var (key, value) in parameters)
        {
            if (key.Equals("BODY", StringComparison.OrdinalIgnoreCase))
                body = value?.ToUpperInvariant();
        }
        return new MailOptions(size, body, parameters.Keys.Any(k => k.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase)));
    }
}

/// <summary>Starts upstream transactions that relay each recipient as the client names it (upstream.recipients: realtime).</summary>
public interface IRealtimeUpstream
{
    /// <summary>
    /// A transaction for <paramref name="sender"/>. Nothing is sent until the first recipient: the connection is
    /// leased then, so recipients the gateway's own filters refuse never cost an upstream connection.
    /// </summary>
    UpstreamTransaction Begin(SmtpPath sender, MailOptions options);
}

/// <summary>
/// One SMTP transaction relayed upstream while the client's is in progress (as Postfix's before-queue proxy does):
/// MAIL FROM with the client's parameters at the first recipient, each RCPT as the client names it, and the message
/// at the end of DATA to the recipients both sides accepted. It never throws for upstream failures: each call returns
/// the reply for the client. Only cancellation by the caller (the session ending) is thrown.
/// <list type="bullet">
/// <item>Upstream unreachable at a recipient (or its pool full for upstream.timeout): 451 4.4.1 for it and every later one.</item>
/// <item>The upstream refusing MAIL FROM: the client's MAIL already had its 250, so the refusal is the reply to the
/// RCPT that opened the transaction, code, enhanced code and text as the upstream gave them (421 as 451), and
/// to every later RCPT of the transaction: the sender is the reason, and the client hears it at the first
/// command it can. A client that sends RSET and MAIL again starts over.</item>
/// <item>The connection lost after MAIL was accepted: 451 4.4.1 for that recipient, every later one, and at the end of DATA.</item>
/// <item>A pooled connection found dead before MAIL was accepted is replaced by a new one, once.</item>
/// </list>
/// The owner must end every transaction: <see cref="SendAsync"/> at the end of DATA, or <see cref="Abandon"/>
/// (a filter refused the message, RSET, a new MAIL or HELO, the session ended), which resets the upstream
/// transaction (nothing is delivered) and returns the connection to the pool.
/// </summary>
public sealed class UpstreamTransaction
{
    private readonly UpstreamPool _pool;
    private readonly ILogger _logger;
    private readonly SmtpPath _sender;
    private readonly MailOptions _options;
    private readonly List<SmtpPath> _accepted = [];
    private readonly Lock _gate = new();
    private UpstreamConnection? _connection;
    private bool _mailAccepted;
    private Reply? _failure;
    private string? _host;
    private bool _busy;
    private bool _finished;
    private bool _abandonWhenIdle;

    internal UpstreamTransaction(UpstreamPool pool, ILogger logger, SmtpPath sender, MailOptions options)
    {
        _pool = pool;
        _logger = logger;
        _sender = sender;
        _options = options;
    }

    /// <summary>The recipients the upstream accepted, in order.</summary>
    public IReadOnlyList<SmtpPath> Accepted => _accepted;

    /// <summary>What went wrong upstream, for the log (null while all is well).</summary>
    public string? FailureDetail { get; private set; }

    /// <summary>
    /// Relays RCPT TO for <paramref name="recipient"/> (leasing a connection and sending MAIL FROM first if it is the
    /// first) and returns the reply for the client: the upstream's (cleaned, 421 as 451), or 451 4.4.1.
    /// </summary>
    public async Task<Reply> AddRecipientAsync(SmtpPath recipient, CancellationToken cancellationToken)
    {
        if (!Enter())
            return Reply.LocalError; // used after its end: a bug in the caller, never a 250
        try
        {
            if (_failure is { } failure)
                return failure;
            if (!IsSafe(recipient) || !IsSafe(_sender))
                return new Reply(553, "5.1.3", "Address not accepted for relay");
            return _connection is null
                ? await OpenAsync(recipient, cancellationToken).ConfigureAwait(false)
                : await RcptAsync(_connection, recipient, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit();
        }
    }

    private async Task<Reply> OpenAsync(SmtpPath recipient, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (connection, reused, reason) = await _pool.LeaseAsync(allowPooled: attempt == 0, cancellationToken).ConfigureAwait(false);
            if (connection is null)
                return Fail(Reply.UpstreamUnavailable, reason ?? "no upstream host");
            _host = connection.Host;
            var utf8 = connection.Has(UpstreamExtensions.SmtpUtf8);
            if (!utf8 && !IsAscii(_sender))
            {
                _pool.Release(connection);
                return Fail(NoSmtpUtf8, $"{connection.Host} does not offer SMTPUTF8 for the sender's address");
            }
            // A recipient the upstream must not see goes without RCPT: MAIL alone, and its refusal once MAIL is accepted.
            var sendable = utf8 || IsAscii(recipient);
            var pipelined = connection.Has(UpstreamExtensions.Pipelining) && sendable;
            UpstreamResponse mail;
            try
            {
                using var deadline = _pool.Deadline(cancellationToken);
                connection.Write(MailCommand(connection));
                connection.Write("\r\n");
                if (pipelined)
                {
                    connection.Write(RcptCommand(recipient));
                    connection.Write("\r\n");
                }
                await connection.FlushAsync(deadline.Token).ConfigureAwait(false);
                mail = await connection.ReadReplyAsync(deadline.Token).ConfigureAwait(false);
                if (mail.Code == 421 && reused)
                    throw new IOException("pooled connection closing (421)");
            }
            catch (Exception e) when (IsFailure(e, cancellationToken))
            {
                connection.Broken = true;
                _pool.Discard(connection);
                if (reused)
                {
                    _logger.LogDebug("pooled connection to {Host} failed ({Error}); retrying on a new one", connection.Host, e.Message);
                    continue;
                }
                return Fail(Reply.UpstreamUnavailable, $"{connection.Host} failed: {Reason(e)}");
            }
            catch
            {
                connection.Broken = true;
                _pool.Discard(connection);
                throw;
            }

            if (!mail.IsPositive)
            {
                // No transaction upstream: the connection is clean once the pipelined RCPT's reply (503) is read.
                try
                {
                    if (pipelined && mail.Code != 421)
                    {
                        using var deadline = _pool.Deadline(cancellationToken);
                        await connection.ReadReplyAsync(deadline.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (IsFailure(e, cancellationToken))
                {
                    connection.Broken = true;
                }
                catch
                {
                    connection.Broken = true;
                    _pool.Discard(connection);
                    throw;
                }
                connection.Broken |= mail.Code == 421;
                _pool.Release(connection);
                var refusal = ForClient(mail);
                return Fail(refusal, $"{connection.Host} sender refused: {refusal}");
            }
            _mailAccepted = true;
            _connection = connection;
            if (!sendable)
                return NoSmtpUtf8;
            if (!pipelined)
                return await RcptAsync(connection, recipient, cancellationToken).ConfigureAwait(false);
            try
            {
                using var deadline = _pool.Deadline(cancellationToken);
                var rcpt = await connection.ReadReplyAsync(deadline.Token).ConfigureAwait(false);
                return Recipient(connection, recipient, rcpt);
            }
            catch (Exception e) when (IsFailure(e, cancellationToken))
            {
                return Lost(connection, e);
            }
            catch
            {
                Drop(connection);
                throw;
            }
        }
    }

    private async Task<Reply> RcptAsync(UpstreamConnection connection, SmtpPath recipient, CancellationToken cancellationToken)
    {
        if (!connection.Has(UpstreamExtensions.SmtpUtf8) && !IsAscii(recipient))
            return NoSmtpUtf8;
        try
        {
            using var deadline = _pool.Deadline(cancellationToken);
            var rcpt = await connection.CommandAsync(RcptCommand(recipient), deadline.Token).ConfigureAwait(false);
            return Recipient(connection, recipient, rcpt);
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            return Lost(connection, e);
        }
        catch
        {
            Drop(connection); // cancelled with a reply still to come: the conversation cannot be resumed
            throw;
        }
    }

    private void Drop(UpstreamConnection connection)
    {
        connection.Broken = true;
        _connection = null;
        _pool.Discard(connection);
    }

    private Reply Recipient(UpstreamConnection connection, SmtpPath recipient, UpstreamResponse rcpt)
    {
        var reply = ForClient(rcpt);
        if (rcpt.IsPositive)
            _accepted.Add(recipient);
        else if (rcpt.Code == 421)
        {
            // The upstream is closing: the transaction is gone for every recipient.
            connection.Broken = true;
            _connection = null;
            _pool.Discard(connection);
            return Fail(reply, $"{connection.Host} closing: {reply}");
        }
        return reply;
    }

    /// <summary>The connection died inside the transaction: it cannot be finished, and nothing was delivered.</summary>
    private Reply Lost(UpstreamConnection connection, Exception e)
    {
        connection.Broken = true;
        _connection = null;
        _pool.Discard(connection);
        Admin.GatewayMetrics.UpstreamFailed(connection.Host);
        return Fail(Reply.UpstreamUnavailable, $"{connection.Host} failed: {Reason(e)}");
    }

    private Reply Fail(Reply reply, string detail)
    {
        _failure = reply;
        FailureDetail = detail;
        return reply;
    }

    /// <summary>
    /// At the end of DATA: sends <paramref name="header"/> (CRLF-terminated lines to prepend) and
    /// <paramref name="message"/> to the recipients the upstream accepted, and returns its final reply (421 as 451).
    /// The transaction ends here whatever happens; the connection goes back to the pool when it is still good.
    /// </summary>
    public async Task<UpstreamResult> SendAsync(string header, Stream message, CancellationToken cancellationToken)
    {
        if (!Enter())
            return new UpstreamResult(Reply.LocalError, "upstream transaction already ended");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (_gate)
            _finished = true;
        var connection = _connection;
        _connection = null;
        try
        {
            if (connection is null || _accepted.Count == 0)
            {
                if (connection is not null)
                    await ResetAsync(connection).ConfigureAwait(false);
                // The client's recipients had the upstream's 250: a transaction lost since is a temporary failure.
                return new UpstreamResult(Reply.UpstreamUnavailable, FailureDetail ?? "no recipient accepted upstream");
            }
            UpstreamResponse final;
            try
            {
                using var deadline = _pool.Deadline(cancellationToken);
                final = await connection.SendMessageAsync(header, message, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsFailure(e, cancellationToken))
            {
                connection.Broken = true;
                _pool.Discard(connection);
                Admin.GatewayMetrics.UpstreamFailed(connection.Host);
                return new UpstreamResult(Reply.UpstreamUnavailable, $"{connection.Host} failed: {Reason(e)}");
            }
            catch
            {
                connection.Broken = true;
                _pool.Discard(connection);
                throw;
            }
            Admin.GatewayMetrics.UpstreamAnswered(connection.Host, started);
            var reply = ForClient(final);
            if (final.Code == 421)
            {
                connection.Broken = true;
                _pool.Discard(connection);
            }
            else if (final.IsPositive)
                _pool.Release(connection);
            else
                await ResetAsync(connection).ConfigureAwait(false); // DATA refused, or the message: clear what is left
            return final.IsPositive
                ? new UpstreamResult(reply, $"{connection.Host} accepted")
                : new UpstreamResult(reply, $"{connection.Host} message refused: {reply}");
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Ends the transaction without delivering: RSET upstream (in the background) and the connection back to the
    /// pool. Does nothing after <see cref="SendAsync"/> or a first <see cref="Abandon"/>; safe from any thread.
    /// </summary>
    public void Abandon()
    {
        UpstreamConnection? connection;
        lock (_gate)
        {
            if (_finished)
                return;
            _finished = true;
            if (_busy)
            {
                _abandonWhenIdle = true; // the command in flight finishes first
                return;
            }
            connection = _connection;
            _connection = null;
        }
        if (connection is not null)
            _ = ResetAsync(connection);
    }

    private async Task ResetAsync(UpstreamConnection connection)
    {
        if (!_mailAccepted || connection.Broken)
        {
            _pool.Release(connection);
            return;
        }
        try
        {
            using var deadline = _pool.Deadline(CancellationToken.None);
            var reply = await connection.CommandAsync("RSET", deadline.Token).ConfigureAwait(false);
            connection.Broken |= reply.Code != 250;
        }
        catch (Exception e) when (IsFailure(e, CancellationToken.None))
        {
            connection.Broken = true;
        }
        var broken = connection.Broken;
        _pool.Release(connection);
        _logger.LogDebug("upstream transaction on {Host} reset; connection {Fate}", connection.Host, broken ? "closed" : "back in the pool");
    }

    private bool Enter()
    {
        lock (_gate)
        {
            if (_finished || _busy)
                return false;
            _busy = true;
            return true;
        }
    }

    private void Exit()
    {
        UpstreamConnection? connection = null;
        lock (_gate)
        {
            _busy = false;
            if (_abandonWhenIdle)
            {
                _abandonWhenIdle = false;
                connection = _connection;
                _connection = null;
            }
        }
        if (connection is not null)
            _ = ResetAsync(connection);
    }

    private string MailCommand(UpstreamConnection connection)
    {
        var command = $"MAIL FROM:<{_sender.Address}>";
        // Only parameters the upstream advertised: an upstream that does not know one must refuse MAIL (RFC 5321 4.1.1.11).
        if (_options.Size is { } size && connection.Has(UpstreamExtensions.Size))
            command += " SIZE=" + size.ToString(CultureInfo.InvariantCulture);
        if (_options.Body == "8BITMIME" && connection.Has(UpstreamExtensions.EightBitMime))
            command += " BODY=8BITMIME";
        else if (_options.Body == "BINARYMIME" && connection.Has(UpstreamExtensions.BinaryMime | UpstreamExtensions.Chunking))
            command += " BODY=BINARYMIME";
        if (_options.Utf8 && connection.Has(UpstreamExtensions.SmtpUtf8))
            command += " SMTPUTF8";
        return command;
    }

    private static string RcptCommand(SmtpPath recipient) => $"RCPT TO:<{recipient.Address}>";

    /// <summary>
    /// RFC 6531 3.4: a non-ASCII address is never sent to a server that did not offer SMTPUTF8 (as Postfix's smtp
    /// client bounces it): refused for good, since the same upstream would meet it again.
    /// </summary>
    private static readonly Reply NoSmtpUtf8 = new(553, "5.6.7", "Non-ASCII address not accepted: the upstream server does not support SMTPUTF8");

    private static bool IsAscii(SmtpPath path) => System.Text.Ascii.IsValid(path.LocalPart) && System.Text.Ascii.IsValid(path.Domain);

    /// <summary>No control character can reach the upstream's command line (the parser refuses them; this makes sure).</summary>
    private static bool IsSafe(SmtpPath path)
    {
        foreach (var c in path.Address)
        {
            if (c < ' ' || c == (char)127)
                return false;
        }
        return true;
    }

    /// <summary>The upstream's reply for our client: cleaned, and 421 (the upstream closing on us) as 451.</summary>
    private static Reply ForClient(UpstreamResponse response) =>
        UpstreamReply.From(response.Code == 421 ? 451 : response.Code, response.Text);

    private static bool IsFailure(Exception e, CancellationToken cancellationToken) =>
        e is IOException or SocketException or AuthenticationException or ObjectDisposedException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Reason(Exception e) => e is OperationCanceledException ? "timed out" : UpstreamReply.Clean(e.Message);
}
