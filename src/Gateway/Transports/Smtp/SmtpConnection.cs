using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Smtp;

/// <summary>
/// One SMTP connection over a socket: frames the client's bytes into command lines and message data (with the limits
/// in <see cref="SmtpLimits"/>), hands them to the <see cref="SessionEngine"/>, and writes its replies. Replies to
/// pipelined commands are written together, once no complete command is left to read (RFC 2920).
/// </summary>
public sealed partial class SmtpConnection
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly Connection _connection;
    private readonly SessionEngine _engine;
    private readonly SmtpLimits _limits;
    private readonly ServerLifetime _lifetime;
    private readonly CertificateProvider? _certificates;
    private readonly ILogger _logger;
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private readonly bool _proxyTrusted;
    private Stream _stream;
    private SslStream? _tls;
    private PipeReader _reader;
    private CancellationTokenSource _readTimer;
    private CancellationTokenSource _writeTimer;
    private Reply? _lastReply;
    private bool _closed;
    private bool _clientGone;

    public SmtpConnection(Socket socket, Connection connection, SessionEngine engine, SmtpLimits limits, ServerLifetime lifetime, CertificateProvider? certificates,
        ILogger logger, bool proxyTrusted)
    {
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _stream = _network;
        _reader = PipeReader.Create(_network, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true));
        _connection = connection;
        _engine = engine;
        _limits = limits;
        _lifetime = lifetime;
        _certificates = certificates;
        _logger = logger;
        _proxyTrusted = proxyTrusted;
        _readTimer = NewTimer();
        _writeTimer = NewTimer();
    }

    /// <summary>A timer on the connection's clock (idle and write timeouts; tests advance a fake one).</summary>
    private CancellationTokenSource NewTimer() => new(Timeout.InfiniteTimeSpan, _connection.Time);

    /// <summary>Whether EHLO offers CHUNKING (BDAT, RFC 3030).</summary>
    public const bool ChunkingSupported = true;

    public Connection Connection => _connection;

    /// <summary>The last reply sent, for the session's log line.</summary>
    public string? LastReply => _lastReply?.ToString();

    /// <summary>Called after a PROXY header named another client: may refuse it (the per-address limit).</summary>
    public Func<IPAddress, IPAddress, Reply?>? ClientChanged { get; init; }

    /// <summary>Runs the session to its end; never throws.</summary>
    public async Task RunAsync()
    {
        using var drain = _lifetime.Draining.Register(static s => ((SmtpConnection)s!).Wake(), this);
        using var stop = _lifetime.Stopping.Register(static s => ((SmtpConnection)s!).Wake(), this);
        try
        {
            if (await GreetAsync().ConfigureAwait(false))
                await CommandLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _clientGone = true;
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "session {Session} faulted: {Error}", _connection.Id, e.Message);
            await CloseWithAsync(Reply.ClosingOnError).ConfigureAwait(false);
        }
        DropChunks();
        try
        {
            await _engine.EndAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "session {Session}: ending: {Error}", _connection.Id, e.Message);
        }
        await CloseGracefullyAsync().ConfigureAwait(false);
    }

    private void Wake()
    {
        try
        {
            _reader.CancelPendingRead();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The greeting: after server.greeting_delay and the connect phase (refusals replace it), unless a PROXY header may change the client.</summary>
    private async ValueTask<bool> GreetAsync()
    {
        if (!_proxyTrusted)
        {
            var server = _connection.Config.Server;
            if (_limits.GreetingDelay > TimeSpan.Zero && await ClientTalksWithinAsync(_limits.GreetingDelay).ConfigureAwait(false))
            {
                if (server.EarlyTalker == EarlyTalkerAction.Reject)
                {
                    await CloseWithAsync(Reply.EarlyTalker).ConfigureAwait(false);
                    return false;
                }
                var symbol = new Symbol("EARLY_TALKER", server.EarlyTalkerScore, $"sent data within {_limits.GreetingDelay.TotalSeconds:0.#}s, before the greeting");
                _connection.ConnectEvaluation.Add(new Pipeline.TraceEntry(Pipeline.Phase.Connect, "early_talker", Verdict.Continue("early_talker", symbol), TimeSpan.Zero));
            }
            if (await _engine.ConnectAsync(_lifetime.Stopping).ConfigureAwait(false) is { } refusal)
            {
                await CloseWithAsync(refusal).ConfigureAwait(false);
                return false;
            }
        }
        WriteText($"220 {_connection.Config.Server.Hostname} ESMTP\r\n");
        await FlushAsync().ConfigureAwait(false);
        return !_closed;
    }

    /// <summary>Waits up to <paramref name="wait"/> for a byte from the client, leaving it unread (MSG_PEEK).</summary>
    private async Task<bool> ClientTalksWithinAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait, _connection.Time);
        using var stopping = _lifetime.Stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        try
        {
            return await _socket.ReceiveAsync(new byte[1], SocketFlags.Peek, timeout.Token).ConfigureAwait(false) > 0;
        }
        catch (OperationCanceledException)
        {
            return false; // quiet for the whole delay: a well-behaved client
        }
        catch (SocketException)
        {
            return false; // gone: the greeting's write will find out
        }
    }

    private async ValueTask CommandLoopAsync()
    {
        var first = true;
        while (!_closed)
        {
            if (_connection.ErrorCount >= _limits.MaxErrors)
            {
                await CloseWithAsync(Reply.TooManyErrors).ConfigureAwait(false);
                return;
            }
            if (_lifetime.IsStopping || _lifetime.IsDraining && !_connection.InTransaction)
            {
                await CloseWithAsync(Reply.ShuttingDown).ConfigureAwait(false);
                return;
            }
            if (first && _proxyTrusted)
            {
                first = false;
                if (!await ReadProxyHeaderAsync().ConfigureAwait(false))
                    return;
                continue;
            }
            var (command, close) = await ReadCommandAsync().ConfigureAwait(false);
            if (close is not null)
            {
                await CloseWithAsync(close).ConfigureAwait(false);
                return;
            }
            if (command is not { } line)
                return; // the client left
            // The connect phase runs before the first command when a PROXY header could have come first.
            if (!_connection.ConnectPhaseDone && await _engine.ConnectAsync(_lifetime.Stopping).ConfigureAwait(false) is { } refusal)
            {
                await CloseWithAsync(refusal).ConfigureAwait(false);
                return;
            }
            var response = await _engine.ExecuteAsync(line, _lifetime.Stopping).ConfigureAwait(false);
            if (!await FollowAsync(response).ConfigureAwait(false))
                return;
        }
    }

    /// <summary>Sends a response and does what it asks; false when the session is over.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FollowAsync(SessionResponse response)
    {
        while (true)
        {
            switch (response.Next)
            {
                case SessionNext.Close:
                    await CloseWithAsync(response.Reply!).ConfigureAwait(false);
                    return false;
                case SessionNext.Command:
                    Write(response.Reply!, response.Lines);
                    return true;
                case SessionNext.StartTls:
                    Write(response.Reply!);
                    await FlushAsync().ConfigureAwait(false);
                    return !_closed && await StartTlsAsync().ConfigureAwait(false);
                case SessionNext.Data:
                    Write(response.Reply!);
                    var data = await ReadDataAsync().ConfigureAwait(false);
                    if (data is null)
                        return false;
                    response = await _engine.EndOfMessageAsync(data.Value.Spool, data.Value.Outcome, _lifetime.Stopping).ConfigureAwait(false);
                    continue;
                case SessionNext.Chunk:
                    var chunk = await ReadChunkAsync(response).ConfigureAwait(false);
                    if (chunk is not { } next)
                        return false;
                    response = next;
                    continue;
            }
        }
    }

    /// <summary>
    /// A trusted proxy's header (v1 or v2), before anything else; without one the connection goes on as the proxy's own.
    /// </summary>
    private async ValueTask<bool> ReadProxyHeaderAsync()
    {
        while (true)
        {
            var (result, close) = await ReadOrCloseAsync(_limits.CommandTimeout, Reply.CommandTimeout).ConfigureAwait(false);
            if (close is not null)
            {
                await CloseWithAsync(close).ConfigureAwait(false);
                return false;
            }
            if (result is not { } read)
                return false;
            if (read.IsCanceled)
            {
                _reader.AdvanceTo(read.Buffer.Start);
                return true; // shutdown: the command loop says goodbye
            }
            var buffer = read.Buffer;
            var header = ProxyHeader.TryParse(buffer);
            switch (header.Status)
            {
                case ProxyHeader.Status.None:
                    _reader.AdvanceTo(buffer.Start);
                    return true;
                case ProxyHeader.Status.NeedMore when !read.IsCompleted:
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                case ProxyHeader.Status.NeedMore:
                    return false;
                case ProxyHeader.Status.Invalid:
                    _reader.AdvanceTo(buffer.Start);
                    await CloseWithAsync(Reply.ProxyMalformed).ConfigureAwait(false);
                    return false;
            }
            _reader.AdvanceTo(buffer.GetPosition(header.Consumed));
            _connection.CommandCount++;
            if (header.Source is { } source)
            {
                var client = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
                if (ClientChanged?.Invoke(_connection.Remote.Address, client) is { } refusal)
                {
                    await CloseWithAsync(refusal).ConfigureAwait(false);
                    return false;
                }
                _connection.Remote = new IPEndPoint(client, source.Port);
                _connection.Local = header.Destination!;
            }
            return true;
        }
    }

    /// <summary>
    /// Reads the next command line. Returns the command, or null at the end of the stream, or a reply to close with
    /// (idle timeout, shutdown, a line past the hard cap). Over-long and undecodable lines are answered here.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(SmtpCommand? Command, Reply? Close)> ReadCommandAsync()
    {
        var discarding = false;
        long discarded = 0;
        while (true)
        {
            var (result, close) = await ReadOrCloseAsync(_limits.CommandTimeout, Reply.CommandTimeout).ConfigureAwait(false);
            if (close is not null)
                return (null, close);
            if (result is not { } read)
                return (null, null);
            if (read.IsCanceled)
            {
                _reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                if (_lifetime.IsStopping || _lifetime.IsDraining && !_connection.InTransaction)
                    return (null, Reply.ShuttingDown);
                continue; // a drain that came while a transaction was open: it may finish
            }
            var buffer = read.Buffer;
            if (_connection.CommandCount == 0 && ProxyHeader.LooksLikeV2(buffer))
                return (null, Reply.ProxyNotAllowed); // a binary PROXY header from a client not trusted to send one
            if (buffer.PositionOf((byte)'\n') is { } end)
            {
                var lineWithLf = buffer.Slice(0, buffer.GetPosition(1, end));
                var length = lineWithLf.Length;
                if (discarding || length > SmtpLimits.MaxCommandLine)
                {
                    _reader.AdvanceTo(lineWithLf.End);
                    if (discarded + length > SmtpLimits.HardLineCap)
                        return (null, Reply.LineTooLongClosing);
                    Write(Reply.LineTooLong);
                    if (_connection.ErrorCount >= _limits.MaxErrors)
                        return (null, Reply.TooManyErrors);
                    discarding = false;
                    discarded = 0;
                    continue;
                }
                var line = buffer.Slice(0, end);
                if (line.Length > 0 && EndsWithCr(line))
                    line = line.Slice(0, line.Length - 1);
                var command = SmtpCommand.Parse(line);
                _reader.AdvanceTo(lineWithLf.End);
                return (command, null);
            }
            if (buffer.Length > SmtpLimits.MaxCommandLine)
            {
                // No line end in sight: drop what we have and keep dropping until one comes.
                discarding = true;
                discarded += buffer.Length;
                _reader.AdvanceTo(buffer.End);
                if (discarded > SmtpLimits.HardLineCap)
                    return (null, Reply.LineTooLongClosing);
            }
            else
                _reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
                return (null, null);
        }
    }

    private static bool EndsWithCr(in ReadOnlySequence<byte> line)
    {
        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }

    /// <summary>
    /// Reads message data up to the end-of-data line into a spool. Returns null when the session must end (client
    /// gone, timeout, hard size cap, shutdown), after writing any closing reply.
    /// </summary>
    private async ValueTask<(MessageSpool Spool, Reply? Outcome)?> ReadDataAsync()
    {
        var mode = _connection.BareLineEndings;
        var decoder = new DataDecoder(mode, _limits.MaxMessageSize);
        var spool = new MessageSpool();
        try
        {
            while (!decoder.Completed)
            {
                var (result, close) = await ReadOrCloseAsync(_limits.DataTimeout, Reply.DataTimeout).ConfigureAwait(false);
                if (close is not null)
                {
                    spool.Dispose();
                    await CloseWithAsync(_lifetime.IsStopping ? Reply.ShuttingDown : close).ConfigureAwait(false);
                    return null;
                }
                if (result is not { } read)
                {
                    spool.Dispose();
                    return null;
                }
                var buffer = read.Buffer;
                long used = 0;
                foreach (var segment in buffer)
                {
                    used += decoder.Feed(segment.Span, spool);
                    if (decoder.Completed)
                        break;
                }
                _reader.AdvanceTo(buffer.GetPosition(used));
                if (decoder.Completed)
                    break;
                if (decoder.RawLength > _limits.DataHardCap)
                {
                    spool.Dispose();
                    await CloseWithAsync(Reply.MessageTooBigClosing).ConfigureAwait(false);
                    return null;
                }
                if (read.IsCanceled && !_lifetime.IsStopping)
                    continue; // a drain: transactions in progress may finish
                if (read.IsCanceled)
                {
                    spool.Dispose();
                    await CloseWithAsync(Reply.ShuttingDown).ConfigureAwait(false);
                    return null;
                }
                if (read.IsCompleted)
                {
                    spool.Dispose();
                    _clientGone = true;
                    return null;
                }
            }
        }
        catch
        {
            spool.Dispose();
            throw;
        }
        var outcome = decoder.Oversize ? Reply.MessageTooBig
            : decoder.SawBareLineEnding && mode == BareLineEndings.Reject ? Reply.BareLineEnding
            : null;
        return (spool, outcome);
    }

    /// <summary>Reads with an idle timeout and the session's time limit (limits.session_timeout, DATA included); a timeout becomes the reply to close with.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(ReadResult? Result, Reply? Close)> ReadOrCloseAsync(TimeSpan idle, Reply onIdle)
    {
        var wait = idle;
        var left = _connection.Started + _limits.SessionTimeout - _connection.Time.GetUtcNow();
        if (left <= TimeSpan.Zero)
            return (null, Reply.SessionTimeout);
        if (left < wait)
        {
            wait = left;
            onIdle = Reply.SessionTimeout;
        }
        try
        {
            return (await ReadAsync(wait).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException)
        {
            return (null, _lifetime.IsStopping ? Reply.ShuttingDown : onIdle);
        }
    }

    /// <summary>The next bytes: what is buffered, else (after sending any pending replies) what the client sends within <paramref name="idle"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult?> ReadAsync(TimeSpan idle)
    {
        if (_reader.TryRead(out var buffered))
            return buffered;
        await FlushAsync().ConfigureAwait(false);
        if (_closed)
            return null;
        if (!_readTimer.TryReset())
        {
            _readTimer.Dispose();
            _readTimer = NewTimer();
        }
        _readTimer.CancelAfter(idle);
        try
        {
            return await _reader.ReadAsync(_readTimer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _clientGone = true;
            return null;
        }
        finally
        {
            _readTimer.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// STARTTLS (TLS 1.2 and 1.3). Anything the client pipelined in plaintext after STARTTLS sits in the old reader's
    /// buffer and is dropped with it (the STARTTLS injection of CVE-2011-0411).
    /// </summary>
    private async ValueTask<bool> StartTlsAsync()
    {
        await Task.Yield(); // the handshake's key operations are CPU work: off the socket engine's thread
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Stopping);
        timeout.CancelAfter(_limits.CommandTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificates!.Current(),
                ClientCertificateRequired = false,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException or SocketException)
        {
            _logger.LogInformation("session {Session}: TLS handshake failed: {Error}", _connection.Id, e.Message);
            await tls.DisposeAsync().ConfigureAwait(false);
            _closed = true;
            return false;
        }
        await _reader.CompleteAsync().ConfigureAwait(false);
        _reader = PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true));
        _tls = tls;
        _stream = tls;
        _engine.TlsStarted(tls.SslProtocol, tls.NegotiatedCipherSuite.ToString());
        return true;
    }

    /// <summary>
    /// 452 4.5.3 is not the client's error: recipients past limits.max_recipients, or of another route than the
    /// transaction's, come again in the next transaction. Up to limits.max_recipient_overshoot of them per transaction
    /// (Postfix's smtpd_recipient_overshoot_limit); past it each counts, so RCPTs cannot go on without end.
    /// </summary>
    private bool ForgivenOvershoot(Reply reply) =>
        reply.Code == 452 && reply.Enhanced == "4.5.3" && _connection.Transaction is { } transaction
        && transaction.Overshoot++ < _limits.MaxRecipientOvershoot;

    private void Write(Reply reply, string? lines = null)
    {
        Admin.GatewayMetrics.Replied(reply.Code);
        if (reply.Code is >= 400 and < 600 && reply.Code != 421 && !ForgivenOvershoot(reply))
            _connection.ErrorCount++;
        reply = _engine.Refer(reply);
        _lastReply = reply;
        if (lines is not null)
        {
            WriteText(lines);
            return;
        }
        var span = _output.GetSpan(8 + Encoding.UTF8.GetMaxByteCount(reply.Enhanced.Length + reply.Text.Length));
        var n = 0;
        span[n++] = (byte)('0' + reply.Code / 100);
        span[n++] = (byte)('0' + reply.Code / 10 % 10);
        span[n++] = (byte)('0' + reply.Code % 10);
        span[n++] = (byte)' ';
        if (reply.Enhanced.Length > 0)
        {
            n += Encoding.UTF8.GetBytes(reply.Enhanced, span[n..]);
            span[n++] = (byte)' ';
        }
        n += Encoding.UTF8.GetBytes(reply.Text, span[n..]);
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        _output.Advance(n);
    }

    private void WriteText(string text)
    {
        var span = _output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        _output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        if (_output.WrittenCount == 0 || _closed)
        {
            _output.Clear();
            return;
        }
        if (!_writeTimer.TryReset())
        {
            _writeTimer.Dispose();
            _writeTimer = NewTimer();
        }
        // Not linked to shutdown: a closing reply must still reach the client. The timeout bounds a client that does not read.
        _writeTimer.CancelAfter(_limits.CommandTimeout);
        try
        {
            await _stream.WriteAsync(_output.WrittenMemory, _writeTimer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The client stopped reading or went away: nothing more can be said to it.
            _closed = true;
            _clientGone = true;
        }
        finally
        {
            _writeTimer.CancelAfter(Timeout.InfiniteTimeSpan);
            _output.Clear();
        }
    }

    /// <summary>Sends <paramref name="reply"/> (after any pending ones) as the session's last.</summary>
    private async ValueTask CloseWithAsync(Reply reply)
    {
        if (_closed)
            return;
        Write(reply);
        await FlushAsync().ConfigureAwait(false);
        _closed = true;
    }

    /// <summary>
    /// Ends the connection so that the last reply arrives: closing a socket that still holds unread client bytes
    /// (a pipelined command after a 421) makes the kernel send a reset, and the client may lose the reply.
    /// So: stop sending, read and drop what the client still sends for a moment, then close.
    /// </summary>
    private async Task CloseGracefullyAsync()
    {
        try
        {
            await _reader.CompleteAsync().ConfigureAwait(false);
            // The usual end: the client sent QUIT, read 221 and closed. Readable with nothing to read is its end of
            // stream: nothing to drain, and no exception for a shutdown of a socket the peer has closed.
            if (_clientGone || _socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0)
                return;
            _socket.Shutdown(SocketShutdown.Send);
            // Drained with SocketAsyncEventArgs, whose errors are values: many clients reset the connection after
            // QUIT, and an exception for each would cost more than the rest of the session's end. After the linger
            // the socket is closed, which ends a receive still waiting.
            // The buffer is pooled (one per closing connection): it goes back once no receive is pending on it.
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                using var args = new SocketAsyncEventArgs();
                args.SetBuffer(buffer, 0, 4096);
                TaskCompletionSource? received = null;
                args.Completed += (_, _) => received!.TrySetResult();
                using var linger = new CancellationTokenSource(SmtpLimits.CloseLinger);
                using var close = linger.Token.Register(() => _socket.Dispose());
                for (var total = 0; total < 64 * 1024;)
                {
                    received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (_socket.ReceiveAsync(args))
                        await received.Task.ConfigureAwait(false);
                    if (args.SocketError != SocketError.Success || args.BytesTransferred == 0)
                        break;
                    total += args.BytesTransferred;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            try
            {
                _tls?.Dispose();
                _network.Dispose();
                _socket.Dispose();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
            }
            _readTimer.Dispose();
            _writeTimer.Dispose();
        }
    }
}
