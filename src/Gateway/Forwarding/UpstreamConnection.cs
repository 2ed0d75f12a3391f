// Why a lean SMTP client of our own rather than MailKit's SmtpClient (which the gateway used until realtime relay):
// - Per-recipient relay needs MAIL, each RCPT and the message as separate steps within one transaction. MailKit's
//   public API is SendAsync (the whole envelope and message at once). Its protected SendCommandAsync can send MAIL and
//   RCPT one at a time, but nothing public or protected writes the message body after DATA/BDAT (its SmtpStream and
//   data filter are internal), so a transaction opened command by command cannot be finished.
// - Cost: MailKit's protocol and stream layer measured about 130 µs of CPU per message on this kind of machine
//   (DESIGN-NOTES), a fifth of the gateway's whole forwarding cost; the relay path needs a few writes and reads of
//   short lines into buffers that live as long as the pooled connection, and no MIME object at all.
// What it does: TCP with TCP_NODELAY; the greeting; EHLO (HELO when EHLO is refused) and its extensions; STARTTLS
// through SslStream (upstream.tls none / opportunistic / required, upstream.verify_certificate); MAIL, RCPT, RSET,
// QUIT; the message by BDAT when CHUNKING is offered, else by DATA with dot-stuffing; multi-line replies. Timeouts
// come through the CancellationToken each call gets.

using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Forwarding;

/// <summary>SMTP extensions an upstream offered in its EHLO reply that the relay acts on.</summary>
[Flags]
public enum UpstreamExtensions
{
    None = 0,
    Pipelining = 1,
    EightBitMime = 2,
    SmtpUtf8 = 4,
    Chunking = 8,
    BinaryMime = 16,
    StartTls = 32,
    Size = 64,
}

/// <summary>One reply of the upstream: its code and its text (lines joined by a space, not yet cleaned).</summary>
public readonly record struct UpstreamResponse(int Code, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
}

/// <summary>The upstream broke the protocol (a malformed or endless reply, bytes after STARTTLS's 220).</summary>
public sealed class UpstreamProtocolException(string message) : IOException(message);

/// <summary>One connection to an upstream MTA, used by one transaction at a time (see <see cref="UpstreamPool"/>).</summary>
public sealed class UpstreamConnection : IAsyncDisposable
{
    private const int MaxReplyLines = 200;
    private const int MaxReplyText = 1000;

    private readonly Socket _socket;
    private Stream _stream;
    private readonly byte[] _in = new byte[4096];
    private int _inStart;
    private int _inEnd;
    // Commands and message bytes are gathered here and written in one call: a 1 KB message goes out with BDAT in a
    // single write. Sized so that a chunk of the message, dot-stuffed at worst (every byte doubled), still fits.
    private readonly byte[] _out = new byte[ChunkSize * 2 + 1024];
    private int _outLength;
    private const int ChunkSize = 8 * 1024;
    // DATA's dot-stuffing state, carried across chunks.
    private bool _atLineStart;
    private bool _lastWasCr;

    private UpstreamConnection(Socket socket, string host)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Host = host;
    }

    /// <summary>"host:port", for the log.</summary>
    public string Host { get; }

    public UpstreamExtensions Extensions { get; private set; }

    public bool IsTls => _stream is SslStream;

    /// <summary>When it was last returned to the pool (a <see cref="TimeProvider"/> timestamp).</summary>
    public long LastUsed { get; set; }

    /// <summary>Set once an I/O error, a timeout or a 421 left the conversation in an unknown state: never reuse it.</summary>
    public bool Broken { get; set; }

    public bool Has(UpstreamExtensions extension) => (Extensions & extension) == extension;

    /// <summary>Connects, reads the greeting, says EHLO and starts TLS as <paramref name="config"/> asks.</summary>
    /// <exception cref="IOException">Refused, closed, a bad greeting, TLS required but not offered, a failed handshake.</exception>
    public static async Task<UpstreamConnection> OpenAsync(HostPort host, UpstreamConfig config, string localDomain, CancellationToken cancellationToken)
    {
        // TCP_NODELAY: without it Nagle holds the end of the message until the upstream's delayed ACK, ~40 ms a message.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        UpstreamConnection? connection = null;
        try
        {
            await socket.ConnectAsync(host.Host, host.Port, cancellationToken).ConfigureAwait(false);
            connection = new UpstreamConnection(socket, host.ToString());
            var greeting = await connection.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (greeting.Code != 220)
                throw new IOException($"greeting: {greeting.Code} {UpstreamReply.Clean(greeting.Text)}");
            await connection.HelloAsync(localDomain, cancellationToken).ConfigureAwait(false);
            if (config.Tls != UpstreamTls.None && connection.Has(UpstreamExtensions.StartTls))
            {
                await connection.StartTlsAsync(host.Host, config.VerifyCertificate, cancellationToken).ConfigureAwait(false);
                await connection.HelloAsync(localDomain, cancellationToken).ConfigureAwait(false);
            }
            else if (config.Tls == UpstreamTls.Required)
                throw new IOException("upstream does not offer STARTTLS (upstream.tls: required)");
            return connection;
        }
        catch
        {
            if (connection is not null)
                await connection.DisposeAsync().ConfigureAwait(false);
            else
                socket.Dispose();
            throw;
        }
    }

    private async Task HelloAsync(string localDomain, CancellationToken cancellationToken)
    {
        Write("EHLO ");
        Write(localDomain);
        Write("\r\n");
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var lines = new List<string>();
        var reply = await ReadReplyAsync(cancellationToken, lines).ConfigureAwait(false);
        var extensions = UpstreamExtensions.None;
        if (reply.Code == 250)
        {
            for (var i = 1; i < lines.Count; i++)
            {
                var line = lines[i];
                var space = line.IndexOf(' ');
                var keyword = space < 0 ? line : line[..space];
                extensions |= keyword.ToUpperInvariant() switch
                {
                    "PIPELINING" => UpstreamExtensions.Pipelining,
                    "8BITMIME" => UpstreamExtensions.EightBitMime,
                    "SMTPUTF8" => UpstreamExtensions.SmtpUtf8,
                    "CHUNKING" => UpstreamExtensions.Chunking,
                    "BINARYMIME" => UpstreamExtensions.BinaryMime,
                    "STARTTLS" => UpstreamExtensions.StartTls,
                    "SIZE" => UpstreamExtensions.Size,
                    _ => UpstreamExtensions.None,
                };
            }
        }
        else
        {
            Write("HELO ");
            Write(localDomain);
            Write("\r\n");
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            reply = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (reply.Code != 250)
                throw new IOException($"EHLO and HELO refused: {reply.Code} {UpstreamReply.Clean(reply.Text)}");
        }
        Extensions = extensions;
    }

    private async Task StartTlsAsync(string host, bool verify, CancellationToken cancellationToken)
    {
        Write("STARTTLS\r\n");
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
        if (reply.Code != 220)
            throw new IOException($"STARTTLS refused: {reply.Code} {UpstreamReply.Clean(reply.Text)}");
        // Anything the server sent after its 220 was sent in the clear and must not be read as if it came over TLS
        // (the STARTTLS response injection, CVE-2011-0411 and MailKit's CVE-2026-41319).
        if (_inEnd > _inStart)
            throw new UpstreamProtocolException("upstream sent data after its STARTTLS reply");
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        if (!verify)
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        _stream = tls;
    }

    /// <summary>Adds a command (or part of one) to the output; <see cref="FlushAsync"/> sends it.</summary>
    public void Write(string text)
    {
        if (Encoding.UTF8.GetMaxByteCount(text.Length) > _out.Length - _outLength && Encoding.UTF8.GetByteCount(text) > _out.Length - _outLength)
            throw new UpstreamProtocolException("command too long");
        _outLength += Encoding.UTF8.GetBytes(text, _out.AsSpan(_outLength));
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_outLength == 0)
            return;
        var length = _outLength;
        _outLength = 0;
        await _stream.WriteAsync(_out.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a command line (without CRLF) and reads its reply.</summary>
    public async ValueTask<UpstreamResponse> CommandAsync(string line, CancellationToken cancellationToken)
    {
        Write(line);
        Write("\r\n");
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one reply, multi-line or not.</summary>
    public async ValueTask<UpstreamResponse> ReadReplyAsync(CancellationToken cancellationToken, List<string>? lines = null)
    {
        string? text = null;
        for (var count = 0; ; count++)
        {
            var end = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var line = _in.AsSpan(_inStart, end - _inStart);
            _inStart = end;
            line = line.TrimEnd("\r\n"u8);
            if (line.Length < 3 || !char.IsAsciiDigit((char)line[0]) || !char.IsAsciiDigit((char)line[1]) || !char.IsAsciiDigit((char)line[2])
                || (line.Length > 3 && line[3] is not ((byte)' ' or (byte)'-')) || count >= MaxReplyLines)
                throw new UpstreamProtocolException("malformed reply from upstream");
            var code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            var part = line.Length > 4 ? Encoding.Latin1.GetString(line[4..]) : "";
            lines?.Add(part);
            if (text is null)
                text = part;
            else if (text.Length < MaxReplyText)
                text = text + " " + part;
            if (line.Length == 3 || line[3] == ' ')
                return new UpstreamResponse(code, text);
        }
    }

    /// <summary>The offset just past the next LF in the input buffer, reading more as needed.</summary>
    private async ValueTask<int> ReadLineAsync(CancellationToken cancellationToken)
    {
        var searched = _inStart;
        while (true)
        {
            var lf = _in.AsSpan(searched, _inEnd - searched).IndexOf((byte)'\n');
            if (lf >= 0)
                return searched + lf + 1;
            if (_inStart > 0)
            {
                _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
                _inEnd -= _inStart;
                _inStart = 0;
            }
            if (_inEnd == _in.Length)
                throw new UpstreamProtocolException("reply line too long");
            searched = _inEnd;
            var n = await _stream.ReadAsync(_in.AsMemory(_inEnd), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new IOException("upstream closed the connection");
            _inEnd += n;
        }
    }

    /// <summary>
    /// Sends <paramref name="header"/> and then <paramref name="message"/> (from its start) as the message of the
    /// transaction, by BDAT when the upstream offers CHUNKING, else by DATA with dot-stuffing, and returns the
    /// upstream's final reply (or its refusal of DATA). A message that does not end with CRLF gets one.
    /// </summary>
    public async Task<UpstreamResponse> SendMessageAsync(string header, Stream message, CancellationToken cancellationToken)
    {
        var head = Encoding.UTF8.GetBytes(header);
        if (Has(UpstreamExtensions.Chunking))
        {
            var endsWithCrlf = EndsWithCrlf(head, message);
            var total = head.Length + message.Length + (endsWithCrlf ? 0 : 2);
            Write("BDAT ");
            Write(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Write(" LAST\r\n");
            await PutRawAsync(head, cancellationToken).ConfigureAwait(false);
            message.Position = 0;
            while (true)
            {
                if (_outLength == _out.Length)
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                var n = await message.ReadAsync(_out.AsMemory(_outLength), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    break;
                _outLength += n;
            }
            if (!endsWithCrlf)
                await PutRawAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
        }

        var data = await CommandAsync("DATA", cancellationToken).ConfigureAwait(false);
        if (data.Code != 354)
            return data;
        _atLineStart = true;
        _lastWasCr = false;
        for (var offset = 0; offset < head.Length; offset += ChunkSize)
            await StuffAsync(head.AsMemory(offset, Math.Min(ChunkSize, head.Length - offset)), cancellationToken).ConfigureAwait(false);
        message.Position = 0;
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            while ((read = await message.ReadAsync(chunk.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false)) > 0)
                await StuffAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        if (!_atLineStart)
            Write("\r\n");
        Write(".\r\n");
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask PutRawAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < bytes.Length;)
        {
            if (_outLength == _out.Length)
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            var n = Math.Min(bytes.Length - offset, _out.Length - _outLength);
            bytes.AsSpan(offset, n).CopyTo(_out.AsSpan(_outLength));
            _outLength += n;
            offset += n;
        }
    }

    /// <summary>
    /// Copies <paramref name="input"/> (at most <see cref="ChunkSize"/> bytes) to the output with a dot doubled at the
    /// start of every line and a bare LF written as CRLF, as MailKit's data filter did, so the bytes upstream are
    /// those the gateway forwarded before.
    /// </summary>
    private async ValueTask StuffAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        if (_out.Length - _outLength < input.Length * 2 + 8)
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        Stuff(input.Span);
    }

    private void Stuff(ReadOnlySpan<byte> src)
    {
        var output = _out.AsSpan();
        var o = _outLength;
        while (src.Length > 0)
        {
            if (_atLineStart && src[0] == (byte)'.')
                output[o++] = (byte)'.';
            var lf = src.IndexOf((byte)'\n');
            if (lf < 0)
            {
                src.CopyTo(output[o..]);
                o += src.Length;
                _lastWasCr = src[^1] == (byte)'\r';
                _atLineStart = false;
                break;
            }
            src[..lf].CopyTo(output[o..]);
            o += lf;
            var crBefore = lf > 0 ? src[lf - 1] == (byte)'\r' : !_atLineStart && _lastWasCr;
            if (!crBefore)
                output[o++] = (byte)'\r';
            output[o++] = (byte)'\n';
            _atLineStart = true;
            _lastWasCr = false;
            src = src[(lf + 1)..];
        }
        _outLength = o;
    }

    private static bool EndsWithCrlf(byte[] head, Stream message)
    {
        Span<byte> last = stackalloc byte[2];
        var fromMessage = (int)Math.Min(2, message.Length);
        if (fromMessage > 0)
        {
            message.Position = message.Length - fromMessage;
            message.ReadExactly(last[(2 - fromMessage)..]);
        }
        if (fromMessage < 2)
        {
            var need = 2 - fromMessage;
            if (head.Length < need)
                return head.Length + fromMessage == 0; // nothing at all: nothing to end
            head.AsSpan(head.Length - need, need).CopyTo(last);
        }
        return last[0] == (byte)'\r' && last[1] == (byte)'\n';
    }

    /// <summary>Says QUIT (briefly: the answer does not matter) and closes.</summary>
    public async Task QuitAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (!Broken)
            {
                Write("QUIT\r\n");
                await FlushAsync(timeout.Token).ConfigureAwait(false);
                await ReadReplyAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or AuthenticationException)
        {
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }
}
