namespace Gateway.Mime;

/// <summary>
/// A read-only, forward-only stream that gives back bytes already read (a sniffed head) before the rest of
/// its source: the way to hand a partly read entry on to an archive reader without copying it.
/// </summary>
internal sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream rest) : ReadOnlyForwardStream
{
    private int _position;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position < prefixLength)
        {
            var n = Math.Min(buffer.Length, prefixLength - _position);
            prefix.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        return rest.Read(buffer);
    }

}
