using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Gateway.Runtime;
using Microsoft.Extensions.Logging;

namespace Gateway.Transports.Milter;

/// <summary>
/// One MTA connection speaking the milter protocol: translates each packet into the <see cref="SessionEngine"/>'s
/// calls (the same engine, filters and transaction record as SMTP) and the engine's answers into milter replies. The
/// MTA owns relay control, queueing and delivery: relay control is off, and nothing is forwarded
/// (<see cref="MilterDelivery"/>). A protocol error, an oversized packet, a timeout or the MTA going away ends the
/// milter session (logged once); the MTA then applies its milter_default_action to the SMTP session.
/// </summary>
public sealed class MilterSession
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly PipeReader _reader;
    private readonly ArrayBufferWriter<byte> _output = new(256);
    private readonly MilterServer _context;
    private readonly GatewaySnapshot _snapshot;
    private readonly MilterConfig _config;
    private readonly MilterMacros _macros = new();
    private CancellationTokenSource _readTimer;
    private MilterSteps _steps;
    private bool _negotiated;
    private int _maxPacket = MilterFrame.DefaultMaxPacket;
    private Connection? _connection;
    private SessionEngine? _engine;
    private MilterDelivery? _delivery;
    private MilterMessage? _message;
    private Reply? _mailRefusal;
    private Reply? _lastReply;
    private DateTimeOffset _sessionStarted;

    public MilterSession(Socket socket, MilterServer context, GatewaySnapshot snapshot, MilterConfig config)
    {
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_network, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _context = context;
        _snapshot = snapshot;
        _config = config;
        _readTimer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, context.Time);
        _sessionStarted = context.Time.GetUtcNow();
    }

    /// <summary>The peer, for the log.</summary>
    public string Peer { get; init; } = "the MTA";

    private bool LeadingSpace => _steps.HasFlag(MilterSteps.HeaderLeadingSpace);

    private ILogger Logger => _context.Logger;

    /// <summary>Runs the milter session to its end; never throws.</summary>
    public async Task RunAsync()
    {
        using var drain = _context.Lifetime.Draining.Register(static s => ((MilterSession)s!).Wake(), this);
        using var stop = _context.Lifetime.Stopping.Register(static s => ((MilterSession)s!).Wake(), this);
        string? ending;
        try
        {
            ending = await LoopAsync().ConfigureAwait(false);
        }
        catch (MilterProtocolException e)
        {
            ending = $"protocol error: {e.Message}";
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            ending = $"connection lost: {e.Message}";
        }
        catch (Exception e)
        {
            Logger.LogError(e, "milter session with {Peer}: unexpected error", Peer);
            ending = $"unexpected error: {e.GetType().Name}";
        }
        await EndSmtpSessionAsync().ConfigureAwait(false);
        if (ending is not null)
            Logger.LogWarning("milter session with {Peer} closed: {Reason} (the MTA applies its milter_default_action)", Peer, ending);
        await CloseAsync().ConfigureAwait(false);
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

    /// <returns>null after the MTA's quit, else why the session ended early.</returns>
    private async Task<string?> LoopAsync()
    {
        while (true)
        {
            // Draining: a session between transactions is closed (the MTA's next one gets milter_default_action).
            if (_context.Lifetime.IsDraining && _connection?.InTransaction != true && _message is null)
            {
                await FlushAsync().ConfigureAwait(false); // the last decision still reaches the MTA
                return _connection is null ? null : "the gateway is shutting down";
            }
            var (packet, ending) = await ReadPacketAsync().ConfigureAwait(false);
            if (packet is not { } p)
                return ending;
            var request = MilterRequest.Parse(p);
            if (!_negotiated && request is not OptionNegotiationRequest)
                throw new MilterProtocolException($"command '{(char)p.Code}' before the option negotiation");
            switch (request)
            {
                case OptionNegotiationRequest offer:
                    Negotiate(offer);
                    break;
                case MacroRequest macros:
                    _macros.Set(macros.Macros);
                    break;
                case ConnectRequest connect:
                    await ConnectAsync(connect).ConfigureAwait(false);
                    break;
                case HeloRequest helo:
                    await HeloAsync(helo).ConfigureAwait(false);
                    break;
                case MailRequest mail:
                    await MailAsync(mail).ConfigureAwait(false);
                    break;
                case RcptRequest rcpt:
                    await RcptAsync(rcpt).ConfigureAwait(false);
                    break;
                case HeaderRequest header:
                    Message().Header(p.Payload.Span, header);
                    Answer(MilterSteps.NoReplyHeader, null);
                    break;
                case EndOfHeadersRequest:
                    Message().EndOfHeaders();
                    Answer(MilterSteps.NoReplyEndOfHeaders, null);
                    break;
                case BodyRequest body:
                    Message().Body(body.Chunk.Span);
                    Answer(MilterSteps.NoReplyBody, null);
                    break;
                case EndOfBodyRequest end:
                    Message().Body(end.FinalChunk.Span);
                    await EndOfMessageAsync().ConfigureAwait(false);
                    break;
                case AbortRequest:
                    await ResetAsync().ConfigureAwait(false);
                    _macros.Remove("i");
                    break;
                case QuitRequest { NewConnection: false }:
                    await FlushAsync().ConfigureAwait(false);
                    return null;
                case QuitRequest:
                    // The MTA keeps this connection for its next SMTP session (SMFIC_QUIT_NC): a new Connect follows.
                    await EndSmtpSessionAsync().ConfigureAwait(false);
                    _macros.Clear();
                    break;
                case DataRequest:
                    Answer(MilterSteps.NoReplyData, null);
                    break;
                case UnknownCommandRequest:
                    Answer(MilterSteps.NoReplyUnknown, null);
                    break;
            }
        }
    }

    private void Negotiate(OptionNegotiationRequest offer)
    {
        if (_negotiated)
            throw new MilterProtocolException("a second option negotiation");
        var (actions, steps) = MilterNegotiation.Negotiate(offer, MilterNegotiation.NeedsOf(_snapshot.Pipeline, _snapshot.Config));
        var macros = actions.HasFlag(MilterActions.SetMacroList) ? MilterNegotiation.Macros : null;
        Write(MilterReplies.OptionNegotiation(MilterNegotiation.VersionFor(offer), actions, steps, macros));
        _steps = steps;
        _maxPacket = MilterNegotiation.MaxPacket(steps);
        _negotiated = true;
    }

    /// <summary>
    /// A reply where the MTA waits for one (the step was not agreed as no-reply): continue, or our refusal, which
    /// names the transaction (else the session) as <c>[ref ID]</c> as over SMTP (<see cref="SessionEngine.Refer"/>:
    /// not syntax and sequence errors, not a reply already named, such as the end of a message's).
    /// </summary>
    private void Answer(MilterSteps noReply, Reply? refusal)
    {
        if (noReply != MilterSteps.None && _steps.HasFlag(noReply))
            return;
        if (refusal is { Code: >= 400 and < 600 })
        {
            if (_engine is { } engine)
                refusal = engine.Refer(refusal);
            _lastReply = refusal;
            Admin.GatewayMetrics.Replied(refusal.Code);
            Write(MilterReplies.ReplyCode(refusal));
        }
        else
            Write(MilterReplies.Continue);
    }

    private static Reply? Refusal(SessionResponse response) => response.Reply is { IsPositive: false } reply ? reply : null;

    private (Connection Connection, SessionEngine Engine) Session() =>
        _connection is not null && _engine is not null ? (_connection, _engine) : throw new MilterProtocolException("an SMTP command before the connect information");

    private MilterMessage Message()
    {
        var (connection, _) = Session();
        return _message ??= new MilterMessage(LeadingSpace, connection.Config.Limits.MaxMessageSize);
    }

    private string? Macro(string name) => _macros.Get(name);

    /// <summary>The client's connection: a new SMTP session on the same engine as SMTP's, with the pipeline's connect phase.</summary>
    private async Task ConnectAsync(ConnectRequest connect)
    {
        await EndSmtpSessionAsync().ConfigureAwait(false);
        var config = _snapshot.Config;
        var address = Address(connect.Family is '4' or '6' ? connect.Address : null) ?? Address(Macro("{client_addr}")) ?? IPAddress.Loopback;
        var port = connect.Port != 0 ? connect.Port : ushort.TryParse(Macro("{client_port}"), out var p) ? p : 0;
        var local = Address(Macro("{daemon_addr}")) is { } daemon
            ? new IPEndPoint(daemon, ushort.TryParse(Macro("{daemon_port}"), out var dp) ? dp : 0)
            : new IPEndPoint(IPAddress.Any, 0);
        var connection = new Connection(SessionIds.Next(), config, new IPEndPoint(address, port), local, _snapshot.Pipeline)
        {
            Upstream = null,
            Dns = _snapshot.Dns,
            State = _snapshot.State,
        };
        // Postfix's client name is forward-confirmed ("unknown" or "[address]" when it is not).
        var name = Macro("{client_name}") ?? connect.HostName;
        if (name.Length > 0 && name != "unknown" && !name.StartsWith('['))
            connection.KnownReverseDns(name);
        _delivery = new MilterDelivery(Logger, _config.Quarantine, LeadingSpace);
        _engine = new SessionEngine(connection, _delivery, Logger, _context.Transactions)
        {
            Stopping = _context.Lifetime.Stopping,
            RelayControl = false,
        };
        _connection = connection;
        _sessionStarted = _context.Time.GetUtcNow();
        Admin.GatewayMetrics.SessionStarted();
        var refusal = await _engine.ConnectAsync(_context.Lifetime.Stopping).ConfigureAwait(false);
        Answer(MilterSteps.NoReplyConnect, refusal);
    }

    private static IPAddress? Address(string? text)
    {
        if (text is null)
            return null;
        if (text.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            text = text[5..];
        if (!IPAddress.TryParse(text, out var address))
            return null;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    private async Task HeloAsync(HeloRequest helo)
    {
        var (connection, engine) = Session();
        // After STARTTLS Postfix sends HELO again, with the TLS macros: the session starts over as over SMTP.
        if (!connection.IsSecure && Macro("{tls_version}") is { } version)
            engine.TlsStarted(Protocol(version), Macro("{cipher}") ?? "");
        var response = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Ehlo, "EHLO", helo.Name), _context.Lifetime.Stopping).ConfigureAwait(false);
        Answer(MilterSteps.NoReplyHelo, Refusal(response));
    }

    private static SslProtocols Protocol(string version) => version switch
    {
        "TLSv1.3" => SslProtocols.Tls13,
        "TLSv1.2" => SslProtocols.Tls12,
        "TLSv1.1" => (SslProtocols)0x0300,
        "TLSv1" => (SslProtocols)0x00C0,
        _ => SslProtocols.Tls12,
    };

    private async Task MailAsync(MailRequest mail)
    {
        var (connection, engine) = Session();
        if (connection.InTransaction)
            await ResetAsync().ConfigureAwait(false);
        _mailRefusal = null;
        // A client the MTA let in without HELO: the session goes on without one, as the MTA's did.
        engine.SkipHello();
        connection.AuthenticatedUser = Macro("{auth_authen}");
        // The parameters the engine reads; the MTA has dealt with the others (AUTH, RET, ENVID...).
        var parameters = mail.Parameters.Where(p => p.StartsWith("SIZE=", StringComparison.OrdinalIgnoreCase)
            || p.StartsWith("BODY=", StringComparison.OrdinalIgnoreCase) || p.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase));
        var argument = string.Join(' ', [$"FROM:{Bracketed(mail.Sender)}", .. parameters]);
        var response = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Mail, "MAIL", argument), _context.Lifetime.Stopping).ConfigureAwait(false);
        if (Refusal(response) is { } refusal)
        {
            if (_steps.HasFlag(MilterSteps.NoReplyMail))
                _mailRefusal = refusal; // the MTA does not wait at MAIL: each recipient gets the refusal instead
            Answer(MilterSteps.NoReplyMail, refusal);
            return;
        }
        if (connection.Transaction is { } transaction)
            transaction.QueueId = Macro("i");
        Answer(MilterSteps.NoReplyMail, null);
    }

    private static string Bracketed(string address) => address.StartsWith('<') ? address : $"<{address}>";

    private async Task RcptAsync(RcptRequest rcpt)
    {
        var (connection, engine) = Session();
        if (_mailRefusal is { } refused)
        {
            Answer(MilterSteps.NoReplyRcpt, refused);
            return;
        }
        if (!connection.InTransaction)
        {
            Answer(MilterSteps.NoReplyRcpt, Reply.BadSequence);
            return;
        }
        var response = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Rcpt, "RCPT", $"TO:{Bracketed(rcpt.Recipient)}"), _context.Lifetime.Stopping).ConfigureAwait(false);
        if (connection.Transaction is { QueueId: null } transaction)
            transaction.QueueId = Macro("i");
        Answer(MilterSteps.NoReplyRcpt, Refusal(response));
    }

    /// <summary>The end of the message: the engine decides (data filters, quarantine, the transaction record), the MTA is told.</summary>
    private async Task EndOfMessageAsync()
    {
        var (connection, engine) = Session();
        var message = _message!;
        _message = null;
        // Without an accepted recipient (which Postfix never does) it is a sequence error, as DATA before RCPT is.
        if (_mailRefusal is not null || connection.Transaction is not { Recipients.Count: > 0 })
        {
            message.Dispose();
            Answer(MilterSteps.None, _mailRefusal ?? Reply.BadSequence);
            _mailRefusal = null;
            return;
        }
        if (Macro("i") is { } queueId)
            connection.Transaction!.QueueId = queueId;
        var spool = message.TakeSpool();
        var tooBig = message.TooBig;
        _delivery!.ReceivedHeaders = message.Headers;
        _delivery.Packets = null;
        message.Dispose();
        var response = await engine.EndOfMessageAsync(spool, tooBig ? Reply.MessageTooBig : null, _context.Lifetime.Stopping).ConfigureAwait(false);
        if (Refusal(response) is { } refusal)
            Answer(MilterSteps.None, refusal);
        else if (_delivery.Packets is { } packets)
        {
            foreach (var packet in packets)
                Write(packet);
        }
        else
            Write(engine.LastOutcome?.Kind == "discarded" ? MilterReplies.Discard : MilterReplies.Continue);
        _delivery.Packets = null;
        _delivery.ReceivedHeaders = [];
        _macros.Remove("i");
    }

    /// <summary>SMFIC_ABORT (the client's RSET, or the MTA's end of a transaction): the transaction is dropped.</summary>
    private async Task ResetAsync()
    {
        _message?.Dispose();
        _message = null;
        _mailRefusal = null;
        if (_engine is { } engine && _connection!.InTransaction)
            await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Rset, "RSET", ""), _context.Lifetime.Stopping).ConfigureAwait(false);
    }

    /// <summary>The SMTP session is over: an open transaction is recorded as abandoned, the session's end is logged.</summary>
    private async Task EndSmtpSessionAsync()
    {
        _message?.Dispose();
        _message = null;
        _mailRefusal = null;
        if (_engine is not { } engine || _connection is not { } connection)
            return;
        _engine = null;
        _connection = null;
        try
        {
            await engine.EndAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Logger.LogWarning(e, "session {Session}: ending: {Error}", connection.Id, e.Message);
        }
        Admin.GatewayMetrics.SessionEnded();
        Logging.TransactionLog.WriteSessionEnd(Logger, connection.View, _lastReply?.ToString());
        _lastReply = null;
    }

    /// <summary>The next packet: what is buffered, else (after sending our pending replies) what the MTA sends in time.</summary>
    private async ValueTask<(MilterPacket? Packet, string? Ending)> ReadPacketAsync()
    {
        while (true)
        {
            if (!_reader.TryRead(out var result))
            {
                await FlushAsync().ConfigureAwait(false);
                var wait = _config.CommandTimeout;
                var left = _sessionStarted + _config.SessionTimeout - _context.Time.GetUtcNow();
                if (left <= TimeSpan.Zero)
                    return (null, $"session time limit of {_config.SessionTimeout} reached");
                var reason = $"no packet from the MTA for {wait}";
                if (left < wait)
                    (wait, reason) = (left, $"session time limit of {_config.SessionTimeout} reached");
                if (!_readTimer.TryReset())
                {
                    _readTimer.Dispose();
                    _readTimer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _context.Time);
                }
                _readTimer.CancelAfter(wait);
                try
                {
                    result = await _reader.ReadAsync(_readTimer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return (null, reason);
                }
                finally
                {
                    _readTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                }
            }
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
                var busy = _connection?.InTransaction == true || _message is not null;
                if (_context.Lifetime.IsStopping || !busy)
                    return (null, "the gateway is shutting down");
                continue; // draining: the transaction in progress may finish
            }
            if (MilterFrame.TryRead(ref buffer, _maxPacket, out var packet))
            {
                _reader.AdvanceTo(buffer.Start);
                return (packet, null);
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                var busy = _connection is not null || buffer.Length > 0;
                return (null, busy ? "the MTA closed the connection without quitting" : null);
            }
        }
    }

    private void Write(byte[] packet) => _output.Write(packet);

    private async ValueTask FlushAsync()
    {
        if (_output.WrittenCount == 0)
            return;
        using var timeout = new CancellationTokenSource(_config.CommandTimeout, _context.Time);
        try
        {
            await _network.WriteAsync(_output.WrittenMemory, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new IOException("the MTA does not read our replies");
        }
        finally
        {
            _output.Clear();
        }
    }

    private async ValueTask CloseAsync()
    {
        try
        {
            await _reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _network.Dispose();
        _socket.Dispose();
        _readTimer.Dispose();
    }
}
