using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Gateway.Smtp;

/// <summary>
/// The input side of a session, between the socket and SmtpServer. SmtpServer reads one command at a time from
/// here; this reader frames it with limits SmtpServer lacks (512-octet lines, idle timeouts, the error limit,
/// shutdown) and screens it (<see cref="CommandScreen"/>). After a 354 it reads the message data itself
/// (<see cref="DataDecoder"/> into a <see cref="MessageSpool"/>) and hands SmtpServer only an empty dot block,
/// so SmtpServer never buffers a message and never sees bare line endings.
/// </summary>
public sealed class GuardedReader : PipeReader
{
    /// <summary>RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included.</summary>
    public const int MaxCommandLine = 512;

    /// <summary>Past this many octets without a line end the connection is closed.</summary>
    public const int HardLineCap = 64 * 1024;

    private static readonly byte[] EmptyDotBlock = "\r\n.\r\n"u8.ToArray();

    private readonly SessionState _session;
    private readonly ReplyWriter _writer;
    private readonly ServerLifetime _lifetime;
    private PipeReader _inner;
    private ReadOnlySequence<byte> _presented;
    private bool _hasPresented;
    private bool _closed;
    private bool _connected;

    public GuardedReader(Stream stream, SessionState session, ReplyWriter writer, ServerLifetime lifetime)
    {
        _inner = Create(stream, new StreamPipeReaderOptions(bufferSize: 8192, leaveOpen: true));
        _session = session;
        _writer = writer;
        _lifetime = lifetime;
        _drain = lifetime.Draining.Register(OnShutdown);
        _stop = lifetime.Stopping.Register(OnShutdown);
    }

    private readonly CancellationTokenRegistration _drain;
    private readonly CancellationTokenRegistration _stop;

    /// <summary>Wakes a session waiting for a command, which then closes unless a transaction is open.</summary>
    private void OnShutdown() => _inner.CancelPendingRead();

    /// <summary>Stops listening for shutdown; called when the session ends.</summary>
    public void Detach()
    {
        _drain.Dispose();
        _stop.Dispose();
    }

    /// <summary>The client closed the connection (or it broke): nobody to say goodbye to.</summary>
    public bool ClientGone { get; private set; }

    /// <summary>Whether the pipe is secured with TLS; STARTTLS is refused then.</summary>
    public bool Secure { get; set; }

    /// <summary>
    /// After STARTTLS: reads continue from the TLS stream. Anything the client pipelined in plaintext after
    /// STARTTLS sits in the old reader's buffer and is dropped with it.
    /// </summary>
    public void ResetStream(Stream stream)
    {
        _inner.Complete();
        _inner = Create(stream, new StreamPipeReaderOptions(bufferSize: 8192, leaveOpen: true));
        _hasPresented = false;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_hasPresented)
        {
            result = new ReadResult(_presented, false, false);
            return true;
        }
        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_hasPresented)
            return;
        _presented = _presented.Slice(consumed);
        if (_presented.IsEmpty)
            _hasPresented = false;
        else if (_presented.Slice(examined).IsEmpty)
            _hasPresented = false; // SmtpServer looked at all of it and wants more: never happens with whole lines
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_hasPresented)
            return new ReadResult(_presented, false, false);
        if (_closed || _writer.Closed)
            return Completed();

        if (_writer.DataRequested)
        {
            _writer.DataRequested = false;
            if (!await ReadDataAsync(cancellationToken).ConfigureAwait(false))
                return Completed();
            return Present(EmptyDotBlock);
        }

        if (_session.CloseAfterReply)
        {
            _closed = true;
            return Completed();
        }
        if (_session.GreetingRefusal is { } refusal)
            return await CloseAsync(refusal, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (_session.ErrorCount >= _session.Config.Limits.MaxErrors)
                return await CloseAsync(Reply.TooManyErrors, cancellationToken).ConfigureAwait(false);
            if (_lifetime.IsStopping || _lifetime.IsDraining && !_session.InTransaction)
                return await CloseAsync(Reply.ShuttingDown, cancellationToken).ConfigureAwait(false);

            var (line, closeReply) = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (closeReply is not null)
                return await CloseAsync(closeReply, cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                ClientGone = true;
                return Completed(); // the client closed the connection
            }

            // The connect phase runs before the first command (after a PROXY header, which changes the client).
            if (!_connected && !_session.ConnectPhaseDone && !line.StartsWith("PROXY ", StringComparison.OrdinalIgnoreCase))
            {
                _connected = true;
                _session.ConnectPhaseDone = true;
                var (connectReply, _) = await SessionPhases.RunSessionPhaseAsync(_session, Pipeline.Phase.Connect, cancellationToken).ConfigureAwait(false);
                if (connectReply is not null)
                    return await CloseAsync(connectReply, cancellationToken).ConfigureAwait(false); // refused at connect: nothing else to say
            }

            var screened = CommandScreen.Screen(line, _session, Secure);
            if (screened.PassLine is { } pass)
            {
                _session.LastCommand = pass.Length >= 4 ? pass[..4] : pass;
                if (_session.LastCommand is "HELO" or "EHLO")
                {
                    var (heloReply, close) = await SessionPhases.RunSessionPhaseAsync(_session, Pipeline.Phase.Helo, cancellationToken).ConfigureAwait(false);
                    if (heloReply is not null)
                    {
                        if (close)
                            return await CloseAsync(heloReply, cancellationToken).ConfigureAwait(false);
                        await _writer.WriteReplyAsync(heloReply, false, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }
                return Present(Encoding.UTF8.GetBytes(pass + "\r\n"));
            }
            if (screened.Reply is { } reply)
            {
                if (screened.Close)
                    return await CloseAsync(reply, cancellationToken).ConfigureAwait(false);
                await _writer.WriteReplyAsync(reply, false, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private ReadResult Present(byte[] bytes)
    {
        _presented = new ReadOnlySequence<byte>(bytes);
        _hasPresented = true;
        return new ReadResult(_presented, false, false);
    }

    private static ReadResult Completed() => new(ReadOnlySequence<byte>.Empty, false, true);

    private async ValueTask<ReadResult> CloseAsync(Reply reply, CancellationToken cancellationToken)
    {
        _closed = true;
        await _writer.WriteReplyAsync(reply, true, cancellationToken).ConfigureAwait(false);
        return Completed();
    }

    /// <summary>
    /// Reads the next command line. Returns the line without its ending, or null at end of stream, or a reply to
    /// close with (idle timeout, shutdown, a line past the hard cap). Over-long lines are answered here and skipped.
    /// </summary>
    private async ValueTask<(string? Line, Reply? Close)> ReadLineAsync(CancellationToken cancellationToken)
    {
        var discarding = false;
        long discarded = 0;
        var limits = _session.Config.Limits;
        while (true)
        {
            // The idle timeout is SmtpServer's own per-command timeout (CommandWaitTimeout = limits.command_timeout),
            // whose "221 Timeout" the ReplyWriter turns into 421 4.4.2; shutdown arrives as a cancelled read
            // (OnShutdown). No timer of our own per command: this is the hot path.
            ReadResult result;
            try
            {
                result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return (null, null);
            }
            if (result.IsCanceled)
            {
                if (_lifetime.IsStopping || _lifetime.IsDraining && !_session.InTransaction)
                    return (null, Reply.ShuttingDown);
                continue; // a drain that came while a transaction was open: it may finish
            }

            var buffer = result.Buffer;
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is { } end)
            {
                var lineWithLf = buffer.Slice(0, buffer.GetPosition(1, end));
                var length = lineWithLf.Length;
                var bytes = length <= MaxCommandLine && !discarding ? lineWithLf.ToArray() : null;
                _inner.AdvanceTo(lineWithLf.End);
                if (discarding || length > MaxCommandLine)
                {
                    if (discarded + length > HardLineCap)
                        return (null, Reply.LineTooLongClosing);
                    await _writer.WriteReplyAsync(Reply.LineTooLong, false, cancellationToken).ConfigureAwait(false);
                    if (_session.ErrorCount >= limits.MaxErrors)
                        return (null, Reply.TooManyErrors);
                    discarding = false;
                    discarded = 0;
                    continue;
                }
                var n = bytes!.Length - 1;
                if (n > 0 && bytes[n - 1] == '\r')
                    n--;
                try
                {
                    return (StrictUtf8.GetString(bytes, 0, n), null);
                }
                catch (DecoderFallbackException)
                {
                    await _writer.WriteReplyAsync(Reply.BadControlCharacters, false, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            if (buffer.Length > MaxCommandLine)
            {
                // No line end in sight: drop what we have and keep dropping until one comes.
                discarding = true;
                discarded += buffer.Length;
                _inner.AdvanceTo(buffer.End);
                if (discarded > HardLineCap)
                    return (null, Reply.LineTooLongClosing);
            }
            else
                _inner.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCompleted)
                return (null, null);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>
    /// Reads message data up to the end-of-data line into a spool kept in the session. Returns false when the
    /// session must end (client gone, timeout, hard size cap), after writing any closing reply.
    /// </summary>
    private async ValueTask<bool> ReadDataAsync(CancellationToken cancellationToken)
    {
        var config = _session.Config;
        var decoder = new DataDecoder(config.Policy.BareLineEndings, config.Limits.MaxMessageSize);
        var spool = new MessageSpool();
        // Past the limit the rest is read and dropped, so the client gets its 552 in order; past twice the
        // limit (and 1MB) a client that will not stop is cut off.
        var hardCap = config.Limits.MaxMessageSize * 2 + 1024 * 1024;
        try
        {
            while (!decoder.Completed)
            {
                ReadResult result;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Stopping))
                {
                    timeout.CancelAfter(config.Limits.DataTimeout);
                    try
                    {
                        result = await _inner.ReadAsync(timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        spool.Dispose();
                        await CloseAsync(_lifetime.IsStopping ? Reply.ShuttingDown : Reply.DataTimeout, cancellationToken).ConfigureAwait(false);
                        return false;
                    }
                    catch (IOException)
                    {
                        spool.Dispose();
                        _closed = true;
                        ClientGone = true;
                        return false;
                    }
                }

                var buffer = result.Buffer;
                long used = 0;
                foreach (var segment in buffer)
                {
                    used += decoder.Feed(segment.Span, spool);
                    if (decoder.Completed)
                        break;
                }
                _inner.AdvanceTo(buffer.GetPosition(used));
                if (decoder.Completed)
                    break;
                if (decoder.RawLength > hardCap)
                {
                    spool.Dispose();
                    await CloseAsync(Reply.MessageTooBigClosing, cancellationToken).ConfigureAwait(false);
                    return false;
                }
                if (result.IsCanceled && !_lifetime.IsStopping)
                    continue; // a drain: transactions in progress may finish
                if (result.IsCanceled)
                {
                    spool.Dispose();
                    await CloseAsync(Reply.ShuttingDown, cancellationToken).ConfigureAwait(false);
                    return false;
                }
                if (result.IsCompleted)
                {
                    spool.Dispose();
                    _closed = true;
                    ClientGone = true;
                    return false;
                }
            }
        }
        catch
        {
            spool.Dispose();
            throw;
        }

        _session.Message?.Dispose();
        _session.Message = spool;
        _session.MessageOutcome = decoder.Oversize ? Reply.MessageTooBig
            : decoder.SawBareLineEnding && config.Policy.BareLineEndings == Configuration.BareLineEndings.Reject ? Reply.BareLineEnding
            : null;
        return true;
    }
}
