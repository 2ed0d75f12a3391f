using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>BDAT chunks (RFC 3030), read by their declared sizes.</summary>
public sealed partial class SmtpConnection
{
    private ChunkDecoder? _chunks;
    private MessageSpool? _chunkSpool;

    /// <summary>
    /// Reads one BDAT chunk (RFC 3030). Its declared size counts against the size limit before any of it is read: a
    /// chunk that would pass the limit gets 552 5.3.4 and the connection is closed, since its bytes cannot be skipped
    /// unread and nothing of it is kept. A refused BDAT (503) still has its chunk read and dropped.
    /// </summary>
    /// <returns>The response to follow, or null when the session is over.</returns>
    private async ValueTask<SessionResponse?> ReadChunkAsync(SessionResponse response)
    {
        if (response.Reply is { } refusal)
        {
            if (response.ChunkSize > _limits.DataHardCap)
            {
                await CloseWithAsync(Reply.MessageTooBigClosing).ConfigureAwait(false);
                return null;
            }
            return await ReadChunkBytesAsync(response.ChunkSize, null, null).ConfigureAwait(false) ? SessionResponse.Say(refusal) : null;
        }
        if (response.FirstChunk || _chunks is null || _chunkSpool is null)
        {
            _chunkSpool?.Dispose();
            _chunkSpool = new MessageSpool();
            _chunks = new ChunkDecoder(_connection.BareLineEndings, _limits.MaxMessageSize);
        }
        if (_chunks.RawLength + response.ChunkSize > _limits.MaxMessageSize)
        {
            DropChunks();
            await CloseWithAsync(Reply.MessageTooBigClosing).ConfigureAwait(false);
            return null;
        }
        if (!await ReadChunkBytesAsync(response.ChunkSize, _chunks, _chunkSpool).ConfigureAwait(false))
        {
            DropChunks();
            return null;
        }
        if (!response.LastChunk)
            return _engine.ChunkAsync(response.ChunkSize);
        var decoder = _chunks;
        var spool = _chunkSpool;
        _chunks = null;
        _chunkSpool = null;
        decoder.Finish(spool);
        var outcome = decoder.Oversize ? Reply.MessageTooBig
            : decoder.SawBareLineEnding && _connection.BareLineEndings == BareLineEndings.Reject ? Reply.BareLineEnding
            : null;
        return await _engine.EndOfMessageAsync(spool, outcome, _lifetime.Stopping).ConfigureAwait(false);
    }

    private void DropChunks()
    {
        _chunkSpool?.Dispose();
        _chunkSpool = null;
        _chunks = null;
    }

    /// <summary>Reads exactly <paramref name="size"/> octets into the decoder (or drops them); false when the session must end.</summary>
    private async ValueTask<bool> ReadChunkBytesAsync(long size, ChunkDecoder? decoder, MessageSpool? spool)
    {
        var left = size;
        while (left > 0)
        {
            var (result, close) = await ReadOrCloseAsync(_limits.DataTimeout, Reply.DataTimeout).ConfigureAwait(false);
            if (close is not null)
            {
                await CloseWithAsync(_lifetime.IsStopping ? Reply.ShuttingDown : close).ConfigureAwait(false);
                return false;
            }
            if (result is not { } read)
                return false;
            var buffer = read.Buffer;
            var take = buffer.Slice(0, Math.Min(left, buffer.Length));
            if (decoder is not null)
            {
                foreach (var segment in take)
                    decoder.Feed(segment.Span, spool!);
            }
            left -= take.Length;
            _reader.AdvanceTo(take.End);
            if (left == 0)
                break;
            if (read.IsCanceled && _lifetime.IsStopping)
            {
                await CloseWithAsync(Reply.ShuttingDown).ConfigureAwait(false);
                return false;
            }
            if (read.IsCompleted)
            {
                _clientGone = true;
                return false;
            }
        }
        return true;
    }
}
