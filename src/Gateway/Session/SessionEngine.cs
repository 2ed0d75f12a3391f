using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Session;

/// <summary>
/// The SMTP session, free of any transport: it takes parsed commands and message bytes and returns replies. The socket
/// front end (<c>Transports/Smtp</c>), <c>gateway explain</c> and <c>gateway test-rules</c> drive this one engine, so
/// the command sequence, the filters' phases, relay control and the end-of-DATA decision exist once.
/// </summary>
public sealed class SessionEngine(Connection connection, IMessageHandler messages, ILogger logger, Tracking.ITransactionSink? transactions = null)
{
    /// <summary>RFC 5321 4.5.3.1: a local part is at most 64 octets, a domain 255, a path 256 (angle brackets included).</summary>
    public const int MaxLocalPart = 64;

    public const int MaxDomain = 255;

    public const int MaxPath = 256;

    public Connection Connection { get; } = connection;

    public SmtpState State { get; private set; }

    /// <summary>Whether EHLO offers CHUNKING (the transport reads BDAT chunks).</summary>
    public bool Chunking { get; init; }

    /// <summary>Cancelled when the gateway stops: a delivery in progress is cut short (421 4.3.2).</summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>Whether refusals name their transaction (<see cref="Refer"/>); off where no client gets them (explain, test-rules).</summary>
    public bool ReplyRefs { get; init; } = true;

    /// <summary>Per-recipient relay upstream; null: the whole message goes upstream at the end of DATA.</summary>
    public IRecipientRelay? Relay { get; init; }

    /// <summary>
    /// Whether recipients are checked against relay.domains and relay.networks. Off in milter mode: the MTA owns relay
    /// control there, and has already accepted the recipient when the gateway hears of it.
    /// </summary>
    public bool RelayControl { get; init; } = true;

    /// <summary>
    /// The session goes on without HELO: the MTA in front (milter mode) accepted MAIL from a client that never sent
    /// one, or HELO was not its to refuse. No HELO filter runs; the connection has no HELO name.
    /// </summary>
    public void SkipHello()
    {
        if (State == SmtpState.Initial)
            State = SmtpState.Ready;
    }

    /// <summary>Runs the connect phase once: before the greeting, or at the first command after a PROXY header.</summary>
    /// <returns>A refusal to close with, or null.</returns>
    public async ValueTask<Reply?> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Connection.ConnectPhaseDone)
            return null;
        Connection.ConnectPhaseDone = true;
        var (reply, _) = await SessionPhases.RunSessionPhaseAsync(Connection, Phase.Connect, cancellationToken).ConfigureAwait(false);
        return reply;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SessionResponse> ExecuteAsync(SmtpCommand command, CancellationToken cancellationToken)
    {
        Connection.CommandCount++;
        switch (command.Verb)
        {
            case SmtpVerb.Invalid:
                return SessionResponse.Say(Reply.BadControlCharacters);
            case SmtpVerb.Unknown:
                return SessionResponse.Say(Reply.Unrecognized);
            case SmtpVerb.NotImplemented:
                return SessionResponse.Say(Reply.NotImplemented);
            case SmtpVerb.Vrfy:
                return SessionResponse.Say(CannotVerify);
            case SmtpVerb.Proxy:
                // A trusted proxy's header is read by the transport before any command; here it is out of place.
                return SessionResponse.Closing(Reply.ProxyNotAllowed);
            case SmtpVerb.Noop:
                return SessionResponse.Say(Ok);
            case SmtpVerb.Quit:
                return command.Argument.Length > 0 ? SessionResponse.Say(NoArgument(command)) : SessionResponse.Closing(Bye);
            case SmtpVerb.Helo or SmtpVerb.Ehlo:
                return await HelloAsync(command, cancellationToken).ConfigureAwait(false);
            case SmtpVerb.Rset:
                if (command.Argument.Length > 0)
                    return SessionResponse.Say(NoArgument(command));
                await ResetAsync().ConfigureAwait(false);
                if (State != SmtpState.Initial)
                    State = SmtpState.Ready;
                return SessionResponse.Say(ResetOk);
            case SmtpVerb.StartTls:
                if (command.Argument.Length > 0)
                    return SessionResponse.Say(NoArgument(command));
                if (Connection.IsSecure)
                    return SessionResponse.Say(TlsActive);
                if (Connection.Config.Server.Tls is null)
                    return SessionResponse.Say(Reply.NotImplemented);
                return SmtpStateTable.Allows(State, SmtpVerb.StartTls) ? new SessionResponse(ReadyForTls, SessionNext.StartTls) : BadSequence();
            case SmtpVerb.Mail:
                return await MailAsync(command.Argument, cancellationToken).ConfigureAwait(false);
            case SmtpVerb.Rcpt:
                return await RcptAsync(command.Argument, cancellationToken).ConfigureAwait(false);
            case SmtpVerb.Data:
                if (command.Argument.Length > 0)
                    return SessionResponse.Say(NoArgument(command));
                return SmtpStateTable.Allows(State, SmtpVerb.Data) ? new SessionResponse(StartData, SessionNext.Data) : BadSequence();
            case SmtpVerb.Bdat:
                return Bdat(command.Argument);
            default:
                return SessionResponse.Say(Reply.Unrecognized);
        }
    }

    private SessionResponse BadSequence() => SessionResponse.Say(State == SmtpState.Chunking ? BadSequenceChunking : Reply.BadSequence);

    private async ValueTask<SessionResponse> HelloAsync(SmtpCommand command, CancellationToken cancellationToken)
    {
        var name = command.Argument.Trim();
        if (name.Length == 0 || name.Contains(' '))
            return SessionResponse.Say(new Reply(501, "5.5.4", $"Syntax: {command.Name} hostname"));
        if (!SmtpStateTable.Allows(State, command.Verb))
            return BadSequence();
        await ResetAsync().ConfigureAwait(false);
        Connection.Helo = HeloName(name);
        Connection.Extended = command.Verb == SmtpVerb.Ehlo;
        var (refusal, close) = await SessionPhases.RunSessionPhaseAsync(Connection, Phase.Helo, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
            return new SessionResponse(refusal, close ? SessionNext.Close : SessionNext.Command);
        State = SmtpState.Ready;
        var config = Connection.Config;
        var greeting = $"{config.Server.Hostname} Hello {Connection.Helo} [{Connection.Remote.Address}]";
        if (command.Verb == SmtpVerb.Helo)
            return SessionResponse.Say(new Reply(250, "", greeting));
        var lines = new StringBuilder(256);
        lines.Append("250-").Append(greeting).Append("\r\n250-PIPELINING\r\n250-SIZE ")
            .Append(config.Limits.MaxMessageSize.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        if (!Connection.IsSecure && config.Server.Tls is not null)
            lines.Append("250-STARTTLS\r\n");
        lines.Append("250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n");
        if (Chunking)
            lines.Append("250-CHUNKING\r\n");
        lines.Append("250 SMTPUTF8\r\n");
        return new SessionResponse(new Reply(250, "", "SMTPUTF8"), SessionNext.Command, lines.ToString());
    }

    /// <summary>
    /// The HELO name as the filters, the log and the Received header see it: whole (the command line bounds it), with
    /// '?' for what is not printable ASCII and for the characters that would change how the Received header reads
    /// (a comment, a quoted string, an address), as Postfix's smtpd neuters them. '[', ']' and ':' stay for address literals.
    /// </summary>
    private static string HeloName(string name) =>
        string.Create(name.Length, name, static (span, name) =>
        {
            for (var i = 0; i < name.Length; i++)
                span[i] = name[i] is > ' ' and < (char)127 and not ('<' or '>' or '(' or ')' or '\\' or '"' or ';' or '@') ? name[i] : '?';
        });

    private async ValueTask<SessionResponse> MailAsync(string argument, CancellationToken cancellationToken)
    {
        if (!argument.StartsWith("FROM:", StringComparison.OrdinalIgnoreCase))
            return SessionResponse.Say(new Reply(501, "5.5.4", "Syntax: MAIL FROM:<address>"));
        var error = SmtpPath.TryParse(argument[5..], allowNull: true, allowBarePostmaster: false, out var path, out var parameters);
        if (error is not null)
            return SessionResponse.Say(new Reply(501, "5.1.7", $"Bad sender address syntax: {error}"));
        if (parameters.TryGetValue("SIZE", out var sizeText))
        {
            if (sizeText is null || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                // Over 19 digits does not fit a long, and is certainly over any limit.
                if (sizeText is { Length: > 0 } && sizeText.All(char.IsAsciiDigit))
                    return SessionResponse.Say(Reply.MessageTooBig);
                return SessionResponse.Say(new Reply(501, "5.5.4", "Bad SIZE parameter"));
            }
            if (size > Connection.Config.Limits.MaxMessageSize)
                return SessionResponse.Say(Reply.MessageTooBig);
        }
        if (parameters.TryGetValue("BODY", out var body) && (body is null || !body.Equals("7BIT", StringComparison.OrdinalIgnoreCase) && !body.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase)))
            return SessionResponse.Say(new Reply(501, "5.5.4", "Unsupported BODY type"));
        if (parameters.TryGetValue("SMTPUTF8", out var utf8) && utf8 is not null)
            return SessionResponse.Say(new Reply(501, "5.5.4", "SMTPUTF8 takes no value"));
        foreach (var key in parameters.Keys)
        {
            if (!key.Equals("SIZE", StringComparison.OrdinalIgnoreCase) && !key.Equals("BODY", StringComparison.OrdinalIgnoreCase) && !key.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase))
                return SessionResponse.Say(new Reply(555, "5.5.4", $"Unsupported MAIL parameter {SmtpPath.Printable(key.ToUpperInvariant())}"));
        }
        if (!SmtpStateTable.Allows(State, SmtpVerb.Mail))
            return BadSequence();
        if (Sizes(path, sender: true) is { } tooLong)
            return SessionResponse.Say(tooLong);
        if (!parameters.ContainsKey("SMTPUTF8") && !IsAscii(path))
            return SessionResponse.Say(NeedsUtf8);

        var transaction = LastTransaction = Connection.BeginTransaction(path, parameters);
        var (refusal, close) = await SessionPhases.RunEnvelopePhaseAsync(Connection, transaction, Phase.MailFrom, null, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            // Recorded like any refused transaction, so that the id the refusal names finds it (gateway track --id).
            transactions?.Record(Tracking.TransactionRecords.From(Connection, transaction, 0, refusal, "not forwarded", Connection.LastRefusalBy ?? "smtp"));
            Connection.ResetTransaction();
            return new SessionResponse(ReplyRefs ? refusal.WithRef(transaction.Id) : refusal, close ? SessionNext.Close : SessionNext.Command);
        }
        State = SmtpState.Mail;
        return SessionResponse.Say(SenderOk);
    }

    private async ValueTask<SessionResponse> RcptAsync(string argument, CancellationToken cancellationToken)
    {
        if (!argument.StartsWith("TO:", StringComparison.OrdinalIgnoreCase))
            return SessionResponse.Say(new Reply(501, "5.5.4", "Syntax: RCPT TO:<address>"));
        var error = SmtpPath.TryParse(argument[3..], allowNull: false, allowBarePostmaster: true, out var path, out var parameters);
        if (error is not null)
            return SessionResponse.Say(new Reply(501, "5.1.3", $"Bad recipient address syntax: {error}"));
        if (parameters.Count > 0)
            return SessionResponse.Say(new Reply(555, "5.5.4", $"Unsupported RCPT parameter {SmtpPath.Printable(parameters.Keys.First().ToUpperInvariant())}"));
        if (!SmtpStateTable.Allows(State, SmtpVerb.Rcpt) || Connection.Transaction is not { } transaction)
            return BadSequence();
        if (Sizes(path, sender: false) is { } tooLong)
            return SessionResponse.Say(tooLong);
        if (!transaction.Utf8 && !IsAscii(path))
            return SessionResponse.Say(NeedsUtf8);
        var (refusal, close) = await DecideRecipientAsync(transaction, path, cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
            return new SessionResponse(refusal, close ? SessionNext.Close : SessionNext.Command);
        State = SmtpState.Rcpt;
        return SessionResponse.Say(RecipientOk);
    }

    /// <summary>A delayed rejection, the recipient limit, relay control, the rcpt_to filters, the route, then the relay upstream.</summary>
    private async ValueTask<(Reply? Reply, bool Close)> DecideRecipientAsync(Transaction transaction, SmtpPath path, CancellationToken cancellationToken)
    {
        var config = Connection.Config;
        Connection.LastRefusalBy = Connection.PendingRejection?.Source ?? "relay";
        var refusal = Connection.PendingRejection?.ReplyOrDefault()
            ?? (transaction.Recipients.Count >= config.Limits.MaxRecipients
                ? Reply.TooManyRecipients
                : RelayControl ? RelayPolicy.Check(path, Connection.Remote.Address, config.Relay) : null);
        var close = false;
        if (refusal is null)
            (refusal, close) = await SessionPhases.RunEnvelopePhaseAsync(Connection, transaction, Phase.RcptTo, path, cancellationToken).ConfigureAwait(false);
        if (path.IsBarePostmaster)
            path = path with { Domain = config.Relay.Domains.FirstOrDefault() ?? config.Server.Hostname };
        // One route per transaction (upstream.routes): nothing is ever delivered to one upstream and not the other.
        var route = config.Upstream.Routes.NameFor(path);
        if (refusal is null && transaction.Route is { } current && current != route)
        {
            Connection.LastRefusalBy = "route";
            refusal = Forwarding.RouteTable.SeparateTransaction(path);
        }
        if (refusal is null && Relay is not null)
        {
            Connection.LastRefusalBy = "upstream";
            refusal = await Relay.RecipientAsync(transaction, path, cancellationToken).ConfigureAwait(false);
        }
        if (refusal is not null)
        {
            transaction.Refused(new RefusedRecipient(path, refusal, Connection.LastRefusalBy ?? "smtp"));
            return (refusal, close);
        }
        if (!transaction.Recipients.Any(r => string.Equals(r.Address, path.Address, StringComparison.OrdinalIgnoreCase)))
            transaction.Recipients.Add(path);
        transaction.Route ??= route;
        return (null, false);
    }

    /// <summary>RFC 5321 4.5.3.1: sizes a server must accept, and no more (a longer path is never forwarded).</summary>
    private static Reply? Sizes(SmtpPath path, bool sender)
    {
        var local = Encoding.UTF8.GetByteCount(path.LocalPart);
        var domain = Encoding.UTF8.GetByteCount(path.Domain);
        if (local + domain + 3 > MaxPath && !path.IsNull)
            return new Reply(501, sender ? "5.1.7" : "5.1.3", "Path too long (RFC 5321 allows 256 octets)");
        if (local > MaxLocalPart)
            return new Reply(553, sender ? "5.1.7" : "5.1.3", "Local part too long (RFC 5321 allows 64 octets)");
        if (domain > MaxDomain)
            return new Reply(553, sender ? "5.1.8" : "5.1.2", "Domain too long (RFC 5321 allows 255 octets)");
        return null;
    }

    private static bool IsAscii(SmtpPath path) => Ascii.IsValid(path.LocalPart) && Ascii.IsValid(path.Domain);

    /// <summary>BDAT size [LAST] (RFC 3030).</summary>
    private SessionResponse Bdat(string argument)
    {
        if (!Chunking)
            return SessionResponse.Say(Reply.NotImplemented);
        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || parts.Length == 2 && !parts[1].Equals("LAST", StringComparison.OrdinalIgnoreCase))
        {
            // The chunk's size is unknown, so its bytes cannot be skipped: the rest of the connection is unreadable.
            return SessionResponse.Closing(new Reply(501, "5.5.4", "Syntax: BDAT size [LAST], closing connection"));
        }
        var last = parts.Length == 2;
        if (!SmtpStateTable.Allows(State, SmtpVerb.Bdat))
        {
            // The chunk follows at once: it must be read (and dropped) to find the next command.
            return new SessionResponse(BadSequence().Reply, SessionNext.Chunk) { ChunkSize = size, LastChunk = last };
        }
        var first = State == SmtpState.Rcpt;
        State = SmtpState.Chunking;
        return new SessionResponse(null, SessionNext.Chunk) { ChunkSize = size, LastChunk = last, FirstChunk = first };
    }

    /// <summary>Whether chunks being read belong to a transaction (false: a BDAT refused with 503, read to be dropped).</summary>
    public bool InChunks => State == SmtpState.Chunking;

    /// <summary>A BDAT chunk (not the last) has been read: RFC 3030 answers each.</summary>
    public SessionResponse ChunkAsync(long size) => SessionResponse.Say(new Reply(250, "2.0.0", $"{size.ToString(CultureInfo.InvariantCulture)} octets received"));

    /// <summary>
    /// The end of the message (DATA's dot line, or BDAT LAST): the data filters decide, the handler forwards or
    /// quarantines, the transaction is recorded and closed.
    /// </summary>
    /// <param name="outcome">Set when the data itself decided the reply (too big, bare line endings).</param>
    public async ValueTask<SessionResponse> EndOfMessageAsync(MessageSpool message, Reply? outcome, CancellationToken cancellationToken)
    {
        if (Connection.Transaction is not { } transaction)
        {
            message.Dispose();
            State = SmtpState.Ready;
            return SessionResponse.Say(Reply.BadSequence);
        }
        transaction.Message?.Dispose();
        transaction.Message = message;
        transaction.MessageOutcome = outcome;
        var size = message.Length;
        MessageOutcome result;
        var close = false;
        try
        {
            if (transaction.Recipients.Count == 0)
                result = new(Reply.LocalError, "no message", "error");
            else
            {
                var decision = await DataPhase.DecideAsync(Connection, transaction, cancellationToken).ConfigureAwait(false);
                close = decision.Close;
                result = decision.Refusal is { } refusal
                    ? new(refusal, decision.Detail, decision.By, decision.Discard ? "discarded" : null)
                    : await messages.HandleAsync(Connection, transaction, decision, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (Stopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            result = new(Reply.ShuttingDown, "cancelled", "shutdown");
        }
        catch (Exception e)
        {
            logger.LogError(e, "transaction {TransactionId}: unexpected error", transaction.Id);
            result = new(Reply.LocalError, $"error: {e.GetType().Name}", "error");
        }
        transactions?.Record(Tracking.TransactionRecords.From(Connection, transaction, size, result.Reply, result.Detail, result.By, result.Kind, result.QuarantineId));
        LastOutcome = result;
        Connection.ResetTransaction();
        State = SmtpState.Ready;
        // Named here: the transaction has ended by the time the transport writes the reply.
        return new SessionResponse(ReplyRefs ? result.Reply.WithRef(transaction.Id) : result.Reply, close ? SessionNext.Close : SessionNext.Command);
    }

    /// <summary>
    /// <paramref name="reply"/> as the client gets it: a refusal or deferral names the open transaction, else the
    /// session (<see cref="Reply.WithRef"/>), so that the sender's bounce leads to the tracking record. A transport
    /// calls this on every reply it writes (the engine's and its own: limits, timeouts); the end of a message is named
    /// by the engine itself, since its transaction has ended by then.
    /// </summary>
    public Reply Refer(Reply reply) => ReplyRefs && reply.NeedsRef ? reply.WithRef(Connection.Transaction?.Id ?? Connection.Id) : reply;

    /// <summary>The last transaction begun, kept after its end (for <c>gateway explain</c>).</summary>
    public Transaction? LastTransaction { get; private set; }

    /// <summary>What the last message came to (for <c>gateway explain</c>).</summary>
    public MessageOutcome? LastOutcome { get; private set; }

    /// <summary>TLS is up: the client starts again with EHLO (RFC 3207 4.2).</summary>
    public void TlsStarted(System.Security.Authentication.SslProtocols protocol, string cipher)
    {
        Connection.TlsProtocol = protocol;
        Connection.TlsCipher = cipher;
        Connection.ResetTransaction();
        Connection.Helo = null;
        State = SmtpState.Initial;
    }

    /// <summary>
    /// The session is over (the client left, a timeout, a closing reply): a transaction still open is recorded as
    /// abandoned, and any upstream transaction is reset.
    /// </summary>
    public async ValueTask EndAsync()
    {
        if (Connection.Transaction is { } transaction)
        {
            transactions?.Record(Tracking.TransactionRecords.From(Connection, transaction, 0, Reply.Abandoned, "not forwarded", "client"));
            if (Relay is not null)
                await Relay.ResetAsync(transaction).ConfigureAwait(false);
        }
        Connection.ResetTransaction();
    }

    private async ValueTask ResetAsync()
    {
        if (Connection.Transaction is { } transaction && Relay is not null)
            await Relay.ResetAsync(transaction).ConfigureAwait(false);
        Connection.ResetTransaction();
    }

    private static Reply NoArgument(SmtpCommand command) => new(501, "5.5.4", $"{command.Name} takes no argument");

    private static readonly Reply Ok = new(250, "2.0.0", "OK");
    private static readonly Reply ResetOk = new(250, "2.0.0", "Reset OK");
    private static readonly Reply SenderOk = new(250, "2.1.0", "Sender OK");
    private static readonly Reply RecipientOk = new(250, "2.1.5", "Recipient OK");
    private static readonly Reply StartData = new(354, "", "End data with <CR><LF>.<CR><LF>");
    private static readonly Reply Bye = new(221, "2.0.0", "Bye");
    private static readonly Reply ReadyForTls = new(220, "2.0.0", "Ready to start TLS");
    private static readonly Reply TlsActive = new(503, "5.5.1", "TLS already active");
    private static readonly Reply CannotVerify = new(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
    private static readonly Reply NeedsUtf8 = new(553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter");
    private static readonly Reply BadSequenceChunking = new(503, "5.5.1", "Bad sequence of commands: only BDAT, RSET, NOOP or QUIT may follow BDAT before LAST");
}
