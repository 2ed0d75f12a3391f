using System.Buffers;

namespace Gateway.Core;

/// <summary>
/// Holds one message body while it is filtered and forwarded: in memory up to a threshold, then in a temporary
/// file that is deleted when the spool is disposed, so that a large message never sits whole in memory.
/// </summary>
/// <remarks>
/// The memory is rented from <see cref="ArrayPool{T}.Shared"/> and grows by doubling (a MemoryStream's growth was a
/// fifth of all the bytes the gateway allocated per 50 KB message). It goes back to the pool only once the spool is
/// disposed and every stream <see cref="OpenRead"/> gave out is disposed too: a filter still reading after its
/// transaction ended (one that outlived its time budget) never sees another message's bytes. A reader that is never
/// disposed only keeps the buffer from the pool; the garbage collector takes it then.
/// </remarks>
public sealed class MessageSpool : IDisposable
{
    public const int DefaultMemoryThreshold = 256 * 1024;
    private const int FirstBuffer = 4096;

    private readonly int _memoryThreshold;
    private readonly string _tempDirectory;
    private readonly Lock _gate = new();
    private byte[]? _buffer;
    private int _length;
    private FileStream? _file;
    private int _readers;
    private bool _disposed;

    public MessageSpool(int memoryThreshold = DefaultMemoryThreshold, string? tempDirectory = null)
    {
        _memoryThreshold = memoryThreshold;
        _tempDirectory = tempDirectory ?? Path.GetTempPath();
    }

    public long Length => _file?.Length ?? _length;

    public bool IsOnDisk => _file is not null;

    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_file is null && (long)_length + data.Length > _memoryThreshold)
        {
            var path = Path.Combine(_tempDirectory, $"gateway-{Guid.NewGuid():N}.spool");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.DeleteOnClose);
            if (_buffer is not null)
                _file.Write(_buffer, 0, _length);
            lock (_gate)
                Release(ref _buffer);
            _length = 0;
        }
        if (_file is not null)
        {
            _file.Write(data);
            return;
        }
        if (_buffer is null || _buffer.Length - _length < data.Length)
            Grow(_length + data.Length);
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_buffer))]
    private void Grow(int needed)
    {
        var size = Math.Max(FirstBuffer, _buffer?.Length * 2 ?? 0);
        while (size < needed)
            size *= 2;
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_buffer is not null)
            _buffer.AsSpan(0, _length).CopyTo(bigger);
        lock (_gate)
        {
            Release(ref _buffer);
            _buffer = bigger;
        }
    }

    /// <summary>Gives the buffer back to the pool, unless a reader still has it (then it is only dropped). Under _gate.</summary>
    private void Release(ref byte[]? buffer)
    {
        if (buffer is not null && _readers == 0)
            ArrayPool<byte>.Shared.Return(buffer);
        buffer = null;
    }

    /// <summary>A read-only, seekable view of the whole body; dispose it when done.</summary>
    public Stream OpenRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_file is not null)
        {
            _file.Flush();
            return new FileStream(_file.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        }
        lock (_gate)
        {
            _readers++;
            return new Reader(this, _buffer ?? [], _length);
        }
    }

    private void ReaderDone()
    {
        lock (_gate)
        {
            if (--_readers == 0 && _disposed)
                Release(ref _buffer);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        lock (_gate)
        {
            _disposed = true;
            Release(ref _buffer);
        }
        _file?.Dispose();
    }

    /// <summary>A MemoryStream over the spool's buffer that tells the spool when it is disposed (once).</summary>
    private sealed class Reader(MessageSpool spool, byte[] buffer, int length) : MemoryStream(buffer, 0, length, writable: false)
    {
        private int _done;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                spool.ReaderDone();
            base.Dispose(disposing);
        }
    }
}
