using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Smtp;

/// <summary>
/// The output side of a session. SmtpServer writes its stock replies here ("250 Ok", "503 bad sequence of
/// commands", "..., 4 retry(ies) remaining."); each line is rewritten into the gateway's reply with an enhanced
/// status code before it reaches the client. It also counts error replies (for the error limit) and notices
/// the 354 that starts message data, which tells the reader to switch to DATA mode.
/// </summary>
public sealed partial class ReplyWriter(SessionState session, TimeSpan writeTimeout) : PipeWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private Stream? _stream;

    /// <summary>Set when a 354 has been sent: the next read is message data.</summary>
    public bool DataRequested { get; set; }

    /// <summary>After a closing reply nothing more is written.</summary>
    public bool Closed { get; private set; }

    /// <summary>The last reply written, for the transaction log.</summary>
    public string? LastReply { get; private set; }

    public void SetStream(Stream stream) => _stream = stream;

    /// <summary>Waits up to the given time and says whether the client sent anything meanwhile (set by the pipe).</summary>
    public Func<TimeSpan, CancellationToken, Task<bool>>? ClientTalksWithin { get; set; }

    /// <summary>
    /// True when the client is known before the greeting (no PROXY header can change it): the connect phase then runs
    /// before the banner, so that a client refused at connect gets the refusal instead of it, as postscreen does.
    /// </summary>
    public bool ConnectBeforeGreeting { get; set; }

    private bool _greeted;

    [GeneratedRegex(@", \d+ retry\(ies\) remaining\.$")]
    private static partial Regex RetrySuffix();

    [GeneratedRegex(@"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}( |$)")]
    private static partial Regex HasEnhancedCode();

    public override void Advance(int bytes) => _buffer.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_buffer.WrittenCount == 0)
            return new FlushResult(false, Closed);
        var text = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        _buffer.Clear();
        if (!_greeted)
        {
            _greeted = true;
            if (!await GreetingMayGoAsync(cancellationToken).ConfigureAwait(false))
                return new FlushResult(false, false); // the reader answers the early talker and closes
        }
        var output = new StringBuilder(text.Length + 32);
        foreach (var line in text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var rewritten = Rewrite(line);
            output.Append(rewritten).Append("\r\n");
        }
        await WriteRawAsync(output.ToString()).ConfigureAwait(false);
        return new FlushResult(false, Closed);
    }

    /// <summary>
    /// server.greeting_delay: the banner waits, and a client that talks first (as spamware does, not waiting for the
    /// greeting RFC 5321 4.3.1 asks for) is an early talker: refused, or scored with EARLY_TALKER.
    /// </summary>
    private async ValueTask<bool> GreetingMayGoAsync(CancellationToken cancellationToken)
    {
        var server = session.Config.Server;
        if (server.GreetingDelay > TimeSpan.Zero && ClientTalksWithin is not null
            && await ClientTalksWithin(server.GreetingDelay, cancellationToken).ConfigureAwait(false))
        {
            if (server.EarlyTalker == Configuration.EarlyTalkerAction.Reject)
            {
                session.GreetingRefusal = Reply.EarlyTalker;
                return false;
            }
            var symbol = new Pipeline.Symbol("EARLY_TALKER", server.EarlyTalkerScore, $"sent data within {server.GreetingDelay.TotalSeconds:0.#}s, before the greeting");
            session.ConnectEvaluation.Add(new Pipeline.TraceEntry(Pipeline.Phase.Connect, "early_talker", Pipeline.Verdict.Continue("early_talker", symbol), TimeSpan.Zero));
        }
        if (!ConnectBeforeGreeting)
            return true;
        session.ConnectPhaseDone = true;
        var (refusal, _) = await SessionPhases.RunSessionPhaseAsync(session, Pipeline.Phase.Connect, cancellationToken).ConfigureAwait(false);
        if (refusal is null)
            return true;
        session.GreetingRefusal = refusal;
        return false;
    }

    /// <summary>Writes one of the gateway's own replies, bypassing the rewriting.</summary>
    public async ValueTask WriteReplyAsync(Reply reply, bool closing, CancellationToken cancellationToken)
    {
        Count(reply.Code);
        LastReply = reply.ToString();
        await WriteRawAsync(LastReply + "\r\n").ConfigureAwait(false);
        if (closing)
            Closed = true;
    }

    private async ValueTask WriteRawAsync(string text)
    {
        if (Closed || _stream is null)
            return;
        // Not linked to the caller's token: SmtpServer writes its closing reply with the session's token already
        // cancelled (session timeout, shutdown), and that reply must still reach the client. The write timeout
        // bounds a client that does not read.
        using var timeout = new CancellationTokenSource(writeTimeout);
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await _stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
            await _stream.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client stopped reading or went away: nothing more can be said to it.
            Closed = true;
        }
    }

    /// <summary>
    /// A last reply written synchronously, when a session is ending without one: SmtpServer leaves its command
    /// loop silently when the session's token is cancelled (session timeout, shutdown) between two commands.
    /// </summary>
    public void WriteFinal(Reply reply)
    {
        if (Closed || _stream is null || LastReply is { } last && (last.StartsWith("221", StringComparison.Ordinal) || last.StartsWith("421", StringComparison.Ordinal)))
            return;
        try
        {
            _stream.Write(Encoding.UTF8.GetBytes(reply + "\r\n"));
            LastReply = reply.ToString();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
        }
        Closed = true;
    }

    private void Count(int code)
    {
        Admin.GatewayMetrics.Replied(code);
        if (code is >= 400 and < 600 && code != 421)
            session.ErrorCount++;
    }

    /// <summary>Turns one line written by SmtpServer into the reply the client gets.</summary>
    internal string Rewrite(string line)
    {
        line = RetrySuffix().Replace(line, "");
        if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out var code))
            return line;
        var continued = line.Length > 3 && line[3] == '-';
        var text = line.Length > 4 ? line[4..] : "";
        var command = session.LastCommand;
        string result;
        if (command is "EHLO" or "HELO" && code == 250 || HasEnhancedCode().IsMatch(line))
            result = line;
        else
            result = (code, text) switch
            {
                (220, _) when command == "STARTTLS" => "220 2.0.0 Ready to start TLS",
                (220, _) => line, // the greeting
                (221, "Timeout while waiting for input.") => Reply.CommandTimeout.ToString(),
                (221, "The session has be cancelled.") => session.Lifetime?.IsStopping == true ? Reply.ShuttingDown.ToString() : Reply.SessionTimeout.ToString(),
                (221, _) => "221 2.0.0 Bye",
                (250, _) => command switch
                {
                    "MAIL" => "250 2.1.0 Sender OK",
                    "RCPT" => "250 2.1.5 Recipient OK",
                    "RSET" => "250 2.0.0 Reset OK",
                    _ => "250 2.0.0 OK",
                },
                (354, _) => "354 End data with <CR><LF>.<CR><LF>",
                (501, _) when text.StartsWith("expected ", StringComparison.Ordinal) => "503 5.5.1 Bad sequence of commands",
                (503, _) => "503 5.5.1 Bad sequence of commands",
                (501, _) => "501 5.5.4 Syntax error in parameters or arguments",
                (500 or 502, _) => Reply.Unrecognized.ToString(),
                (552, _) => Reply.MessageTooBig.ToString(),
                (554, "no valid recipients given") => "554 5.5.1 No valid recipients",
                (554, "") => Reply.LocalError.ToString(), // SmtpServer's answer to an exception in the store: ours, so retry
                (550, _) => "550 5.1.1 Mailbox unavailable",
                ( >= 200 and < 300, _) => $"{code} 2.0.0 {text}",
                ( >= 400 and < 500, _) => $"{code} 4.0.0 {text}",
                ( >= 500, _) => $"{code} 5.0.0 {text}",
                _ => line,
            };
        if (!continued)
        {
            var finalCode = int.Parse(result.AsSpan(0, 3));
            Count(finalCode);
            if (finalCode == 354)
                DataRequested = true;
            LastReply = result;
        }
        if (continued && result.Length > 3)
            result = result[..3] + "-" + result[4..];
        return result;
    }
}
