using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// A raw SMTP client over a socket, for what a well-behaved client library refuses to send: bare line endings,
/// pipelined smuggling attempts, over-long lines, plaintext after STARTTLS.
/// </summary>
public sealed class RawSmtpClient : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _client;
    private Stream _stream;
    private readonly List<byte> _pending = [];

    private RawSmtpClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawSmtpClient> ConnectAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        return new RawSmtpClient(client);
    }

    /// <summary>Connects and reads the greeting.</summary>
    public static async Task<(RawSmtpClient Client, string Greeting)> OpenAsync(int port)
    {
        var c = await ConnectAsync(port);
        return (c, await c.ReadReplyAsync());
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends a command line (CRLF added) and returns the complete reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>
    /// Reads one reply, all lines of a multi-line reply joined by newlines; "" if the server closed. The gateway's
    /// <c>[ref ID]</c> is checked (<see cref="Refs.Check"/>), kept in <see cref="LastRef"/> and stripped, so that
    /// tests assert the words; <see cref="LastRaw"/> is the reply as sent.
    /// </summary>
    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line is not null)
                lines.Add(line);
            if (line is null || line.Length < 4 || line[3] != '-')
            {
                LastRaw = string.Join("\n", lines);
                if (line is not null && CheckRefs)
                    Refs.Check(line);
                LastRef = Refs.Of(LastRaw);
                return Refs.Strip(LastRaw);
            }
        }
    }

    /// <summary>The last reply read, as the server sent it.</summary>
    public string LastRaw { get; private set; } = "";

    /// <summary>The id the last reply named (<c>[ref ID]</c>), or null.</summary>
    public string? LastRef { get; private set; }

    /// <summary>Whether replies are checked to name their transaction as the gateway's must (off for other servers).</summary>
    public bool CheckRefs { get; set; } = true;

    /// <summary>True when the server has closed the connection (reads end-of-stream).</summary>
    public async Task<bool> IsClosedAsync()
    {
        try
        {
            return await ReadLineAsync() is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        var buffer = new byte[1];
        while (true)
        {
            var lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, lf + 1).ToArray()).TrimEnd('\r', '\n');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                n = 0;
            }
            if (n == 0)
                return _pending.Count > 0 ? Encoding.UTF8.GetString([.. _pending]) : null;
            _pending.Add(buffer[0]);
        }
    }

    public async Task StartTlsAsync()
    {
        var ssl = new SslStream(_stream, false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("mx.test.example");
        _stream = ssl;
        _pending.Clear();
    }

    public SslStream? Tls => _stream as SslStream;

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
