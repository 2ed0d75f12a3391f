namespace Gateway.Core;

/// <summary>
/// Holds one message body while it is filtered and forwarded: in memory up to a threshold, then in a temporary
/// file that is deleted when the spool is disposed, so that a large message never sits whole in memory.
/// </summary>
public sealed class MessageSpool : IDisposable
{
    public const int DefaultMemoryThreshold = 256 * 1024;

    private readonly int _memoryThreshold;
    private readonly string _tempDirectory;
    private MemoryStream? _memory = new();
    private FileStream? _file;
    private bool _disposed;

    public MessageSpool(int memoryThreshold = DefaultMemoryThreshold, string? tempDirectory = null)
    {
        _memoryThreshold = memoryThreshold;
        _tempDirectory = tempDirectory ?? Path.GetTempPath();
    }

    public long Length => _file?.Length ?? _memory!.Length;

    public bool IsOnDisk => _file is not null;

    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_file is null && _memory!.Length + data.Length > _memoryThreshold)
        {
            var path = Path.Combine(_tempDirectory, $"gateway-{Guid.NewGuid():N}.spool");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.DeleteOnClose);
            _memory.Position = 0;
            _memory.CopyTo(_file);
            _memory = null;
        }
        if (_file is not null)
            _file.Write(data);
        else
            _memory!.Write(data);
    }

    /// <summary>A read-only, seekable view of the whole body; the spool must outlive it.</summary>
    public Stream OpenRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_file is not null)
        {
            _file.Flush();
            return new FileStream(_file.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        }
        return new MemoryStream(_memory!.GetBuffer(), 0, (int)_memory.Length, writable: false);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _file?.Dispose();
        _memory?.Dispose();
    }
}
