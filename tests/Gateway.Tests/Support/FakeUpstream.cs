using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>A message as the test upstream received it: envelope and the bytes after dot-unstuffing.</summary>
public sealed record ReceivedMessage(string MailFrom, IReadOnlyList<string> RcptTo, byte[] Data, bool OverTls)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>
/// A real SMTP server on a loopback port chosen by the OS, playing the upstream MTA in end-to-end tests. Its
/// behaviour is scripted per test: refuse a recipient, refuse the message, drop the connection mid-DATA,
/// close idle connections. Written for the tests because they need failures no real MTA produces on demand.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly ConcurrentQueue<ReceivedMessage> _messages = new();
    private readonly X509Certificate2? _certificate;
    private int _connections;
    private int _open;
    private readonly SemaphoreSlim _resets = new(0);
    private readonly SemaphoreSlim _closed = new(0);
    private readonly ConcurrentQueue<string> _mailLines = new();

    public FakeUpstream(X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string HostPort => $"127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedMessage> Messages => [.. _messages];

    /// <summary>Every MAIL and RCPT command line as received, parameters included.</summary>
    public IReadOnlyList<string> EnvelopeCommands => [.. _envelopeCommands];

    private readonly ConcurrentQueue<string> _envelopeCommands = new();

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Every MAIL command line received, as sent.</summary>
    public IReadOnlyList<string> MailLines => [.. _mailLines];

    /// <summary>Offer CHUNKING (and BINARYMIME) and take BDAT.</summary>
    public bool Chunking { get; init; }

    /// <summary>Sent in the clear right behind STARTTLS's 220, in the same write (the STARTTLS response injection).</summary>
    public string? AfterStartTls { get; init; }

    /// <summary>Offer SMTPUTF8 (RFC 6531); on by default.</summary>
    public bool Utf8 { get; init; } = true;

    /// <summary>Messages that came by BDAT.</summary>
    public int BdatMessages => Volatile.Read(ref _bdat);

    private int _bdat;

    /// <summary>Completes at the next RSET received (or one received since the last wait).</summary>
    public Task WaitForResetAsync() => _resets.WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(t => Assert.True(t.Result, "no RSET upstream"));

    /// <summary>Completes when a connection closes (or one closed since the last wait).</summary>
    public Task WaitForCloseAsync() => _closed.WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(t => Assert.True(t.Result, "no upstream connection closed"));

    /// <summary>Reply to RCPT for an address, or null for 250.</summary>
    public Func<string, string?> RcptReply { get; set; } = _ => null;

    /// <summary>Reply to MAIL, or null for 250.</summary>
    public Func<string, string?> MailReply { get; set; } = _ => null;

    /// <summary>Reply after the data, or null for 250.</summary>
    public Func<ReceivedMessage, string?> DataReply { get; set; } = _ => null;

    /// <summary>Close the connection after this many bytes of DATA, without replying.</summary>
    public int? DropAfterDataBytes { get; set; }

    /// <summary>Close each connection after it has carried this many messages (as an MTA closing idle connections does).</summary>
    public int? CloseAfterMessages { get; set; }

    /// <summary>Completes when a message has been received (accepted or not).</summary>
    public TaskCompletionSource<ReceivedMessage> FirstMessage { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised for each message accepted (after it is in <see cref="Messages"/>).</summary>
    public event Action<ReceivedMessage>? Accepted;

    /// <summary>Completes with the first accepted message (already received or to come) that matches; fails after 30 s.</summary>
    public Task<ReceivedMessage> WaitForAsync(Func<ReceivedMessage, bool> match)
    {
        var found = new TaskCompletionSource<ReceivedMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(ReceivedMessage message)
        {
            if (match(message))
                found.TrySetResult(message);
        }
        Accepted += Handler;
        foreach (var message in _messages)
        {
            if (match(message))
                found.TrySetResult(message);
        }
        return found.Task.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t =>
        {
            Accepted -= Handler;
            return t;
        }, TaskScheduler.Default).Unwrap();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        Interlocked.Increment(ref _open);
        try
        {
            await ServeSessionAsync(client);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
            _closed.Release();
        }
    }

    private async Task ServeSessionAsync(TcpClient client)
    {
        Stream stream = client.GetStream();
        var tls = false;
        try
        {
            var reader = new LineReader(stream);
            await WriteAsync(stream, "220 upstream.test ESMTP\r\n");
            string? from = null;
            var rcpts = new List<string>();
            var carried = 0;
            while (true)
            {
                var line = await reader.ReadLineAsync(_stop.Token);
                if (line is null)
                    return;
                var verb = line.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        var caps = "250-upstream.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 100000000\r\n";
                        if (_certificate is not null && !tls)
                            caps += "250-STARTTLS\r\n";
                        if (Chunking)
                            caps += "250-CHUNKING\r\n250-BINARYMIME\r\n";
                        await WriteAsync(stream, caps + (Utf8 ? "250 SMTPUTF8\r\n" : "250 ENHANCEDSTATUSCODES\r\n"));
                        break;
                    case "HELO":
                        await WriteAsync(stream, "250 upstream.test\r\n");
                        break;
                    case "STARTTLS":
                        await WriteAsync(stream, "220 2.0.0 go ahead\r\n" + AfterStartTls);
                        var ssl = new SslStream(stream);
                        await ssl.AuthenticateAsServerAsync(_certificate!);
                        stream = ssl;
                        reader = new LineReader(stream);
                        tls = true;
                        break;
                    case "MAIL":
                        _envelopeCommands.Enqueue(line);
                        from = Between(line);
                        _mailLines.Enqueue(line);
                        rcpts.Clear();
                        await WriteAsync(stream, (MailReply(from) ?? "250 2.1.0 Ok") + "\r\n");
                        break;
                    case "RCPT":
                        _envelopeCommands.Enqueue(line);
                        var rcpt = Between(line);
                        var reply = RcptReply(rcpt);
                        if (reply is null)
                            rcpts.Add(rcpt);
                        await WriteAsync(stream, (reply ?? "250 2.1.5 Ok") + "\r\n");
                        break;
                    case "DATA":
                        await WriteAsync(stream, "354 go ahead\r\n");
                        var data = await reader.ReadDataAsync(DropAfterDataBytes, _stop.Token);
                        if (data is null)
                            return; // dropped mid-DATA
                        var message = new ReceivedMessage(from ?? "", [.. rcpts], data, tls);
                        var dataReply = DataReply(message);
                        if (dataReply is null)
                        {
                            _messages.Enqueue(message);
                            Accepted?.Invoke(message);
                        }
                        FirstMessage.TrySetResult(message);
                        await WriteAsync(stream, (dataReply ?? "250 2.0.0 Ok: queued as TEST") + "\r\n");
                        carried++;
                        if (CloseAfterMessages is { } max && carried >= max)
                            return;
                        break;
                    case "BDAT" when Chunking:
                        var parts = line.Split(' ');
                        var chunk = await reader.ReadExactlyAsync(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), _stop.Token);
                        if (chunk is null)
                            return;
                        if (parts.Length < 3 || parts[2] != "LAST")
                        {
                            await WriteAsync(stream, "554 5.5.1 this test upstream takes one chunk\r\n");
                            break;
                        }
                        var chunked = new ReceivedMessage(from ?? "", [.. rcpts], chunk, tls);
                        var chunkedReply = DataReply(chunked);
                        if (chunkedReply is null)
                            _messages.Enqueue(chunked);
                        Interlocked.Increment(ref _bdat);
                        FirstMessage.TrySetResult(chunked);
                        await WriteAsync(stream, (chunkedReply ?? "250 2.0.0 Ok: queued as TEST") + "\r\n");
                        break;
                    case "RSET":
                        from = null;
                        rcpts.Clear();
                        await WriteAsync(stream, "250 2.0.0 Ok\r\n");
                        _resets.Release();
                        break;
                    case "NOOP":
                        await WriteAsync(stream, "250 2.0.0 Ok\r\n");
                        break;
                    case "QUIT":
                        await WriteAsync(stream, "221 2.0.0 Bye\r\n");
                        return;
                    default:
                        await WriteAsync(stream, "502 5.5.1 Unknown\r\n");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
        }
    }

    private static string Between(string line)
    {
        var start = line.IndexOf('<');
        var end = line.IndexOf('>', start + 1);
        return start < 0 || end < 0 ? "" : line[(start + 1)..end];
    }

    private static Task WriteAsync(Stream stream, string text) => stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    /// <summary>Byte-level line reader: SMTP lines end with CRLF, and DATA must keep its exact bytes.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync(CancellationToken ct)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            _end += n;
            return n > 0;
        }

        public async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            var bytes = await ReadRawLineAsync(ct);
            return bytes is null ? null : Encoding.UTF8.GetString(bytes).TrimEnd('\r', '\n');
        }

        private async Task<byte[]?> ReadRawLineAsync(CancellationToken ct)
        {
            while (true)
            {
                var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    var line = _buffer[_start..(lf + 1)];
                    _start = lf + 1;
                    return line;
                }
                if (!await FillAsync(ct))
                    return null;
            }
        }

        public async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken ct)
        {
            var data = new MemoryStream();
            while (data.Length < count)
            {
                if (_start == _end && !await FillAsync(ct))
                    return null;
                var n = (int)Math.Min(count - data.Length, _end - _start);
                data.Write(_buffer, _start, n);
                _start += n;
            }
            return data.ToArray();
        }

        public async Task<byte[]?> ReadDataAsync(int? dropAfter, CancellationToken ct)
        {
            var data = new MemoryStream();
            long seen = 0;
            while (true)
            {
                var line = await ReadRawLineAsync(ct);
                if (line is null)
                    return null;
                seen += line.Length;
                if (dropAfter is { } limit && seen > limit)
                    return null;
                if (line.AsSpan().SequenceEqual(".\r\n"u8))
                    return data.ToArray();
                var offset = line.Length > 0 && line[0] == '.' ? 1 : 0;
                data.Write(line, offset, line.Length - offset);
            }
        }
    }
}
