using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer.IO;

namespace Gateway.Smtp;

/// <summary>
/// The duplex pipe SmtpServer talks through: a <see cref="GuardedReader"/> in, a <see cref="ReplyWriter"/> out,
/// and the STARTTLS upgrade (TLS 1.2 and 1.3 only).
/// </summary>
public sealed class GuardedPipe : ISecurableDuplexPipe
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly SessionState _session;
    private readonly GuardedReader _reader;
    private readonly ReplyWriter _writer;
    private readonly Action<GuardedPipe> _onDispose;
    private SslStream? _tls;
    private int _disposed;

    public GuardedPipe(Socket socket, SessionState session, ServerLifetime lifetime, Action<GuardedPipe> onDispose)
    {
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _session = session;
        _onDispose = onDispose;
        _writer = new ReplyWriter(session, session.Config.Limits.CommandTimeout);
        _writer.SetStream(_network);
        // A trusted proxy sends its PROXY header before any greeting: that is not talking early.
        if (!session.Config.Server.ProxyTrusted.Any(n => n.Contains(session.Remote.Address)))
        {
            _writer.ClientTalksWithin = ClientTalksWithinAsync;
            _writer.ConnectBeforeGreeting = true;
        }
        _reader = new GuardedReader(_network, session, _writer, lifetime);
    }

    /// <summary>Waits up to <paramref name="wait"/> for a byte from the client, leaving it unread (MSG_PEEK).</summary>
    private async Task<bool> ClientTalksWithinAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _socket.ReceiveAsync(new byte[1], SocketFlags.Peek, timeout.Token).ConfigureAwait(false) > 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // quiet for the whole delay: a well-behaved client
        }
        catch (SocketException)
        {
            return false; // gone: the greeting's write will find out
        }
    }

    public PipeReader Input => _reader;

    public PipeWriter Output => _writer;

    public ReplyWriter Replies => _writer;

    public SessionState Session => _session;

    public bool IsSecure => _tls is not null;

    public SslProtocols SslProtocol => _tls?.SslProtocol ?? SslProtocols.None;

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        await Task.Yield(); // the handshake's key operations are CPU work: off the socket engine's thread
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_session.Config.Limits.CommandTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = false,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        _tls = tls;
        _reader.ResetStream(tls);
        _reader.Secure = true;
        _writer.SetStream(tls);
        _session.TlsProtocol = tls.SslProtocol;
        _session.TlsCipher = tls.NegotiatedCipherSuite.ToString();
        _session.ResetTransaction();
        _session.Helo = null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _reader.Detach();
        // The session ended without the client leaving and without a closing reply: SmtpServer cut it
        // (session timeout, shutdown, a fault). The client still deserves a 421 saying so.
        var ending = _reader.ClientGone || _session.CloseAfterReply ? null
            : _session.Lifetime?.IsStopping == true ? Reply.ShuttingDown
            : DateTimeOffset.UtcNow - _session.Started >= _session.Config.Limits.SessionTimeout - TimeSpan.FromMilliseconds(100) ? Reply.SessionTimeout
            : Reply.ClosingOnError;
        if (ending is not null)
        {
            try
            {
                _socket.SendTimeout = 1000; // a client that does not read cannot hold this thread
                _writer.WriteFinal(ending);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
        _onDispose(this); // logs an unfinished transaction: before it is reset
        _session.ResetTransaction();
        _ = CloseGracefullyAsync();
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
            // The usual end: the client sent QUIT, read 221 and closed. Readable with nothing to read is its end of
            // stream: nothing to drain, and no exception for a shutdown of a socket the peer has closed.
            if (_socket.Poll(0, SelectMode.SelectRead) && _socket.Available == 0)
                return;
            _socket.Shutdown(SocketShutdown.Send);
            // Drained with SocketAsyncEventArgs, whose errors are values: many clients reset the connection after
            // QUIT, and an exception for each would cost more than the rest of the session's end. After 2 s the
            // socket is closed, which ends a receive still waiting.
            using var args = new SocketAsyncEventArgs();
            args.SetBuffer(new byte[4096], 0, 4096);
            TaskCompletionSource? received = null;
            args.Completed += (_, _) => received!.TrySetResult();
            using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(2));
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
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
        }
    }
}
