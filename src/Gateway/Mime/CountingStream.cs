namespace Gateway.Mime;

/// <summary>
/// A read-only pass-through that counts the bytes read and calls <paramref name="onRead"/> after every read
/// with the running total: where archive limits are checked on bytes as they really come out of a
/// decompressor, whatever an archive's headers declare. The callback throws to stop the reading.
/// </summary>
internal sealed class CountingStream(Stream inner, Action<long, int>? onRead = null) : ReadOnlyForwardStream
{
    public long Count { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Count += n;
        onRead?.Invoke(Count, n);
        return n;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override long Position { get => Count; set => throw new NotSupportedException(); }
}
