using System.Buffers.Binary;
using System.IO.Hashing;

namespace Gateway.Mime;

/// <summary>
/// The content of a gzip stream, checked against the stream's trailer when its end is read: the CRC-32 and the
/// length (mod 2^32) of what came out must be the last 8 bytes of the stream (RFC 1952). Otherwise reading the end
/// throws <see cref="InvalidDataException"/>, so a gzip stream cut short or corrupted is not readable rather
/// than listed as the part of it that came out.
/// </summary>
/// <remarks>
/// Written by hand (a few lines over System.IO.Hashing's CRC-32) because no decoder at hand reports it:
/// SharpCompress's GZipReader and .NET's GZipStream both return the bytes they had when the input ends early
/// (measured with SharpCompress 0.50.9 and .NET 10), and SharpCompress's GZipStream checks the trailer only when
/// disposed and not at all when nothing came out. The input is read to its end first, so that the bytes the
/// decoder read ahead do not matter. A stream of several gzip members (rare in mail; the reader lists only the
/// first) fails the check too, as does one with bytes after its trailer.
/// </remarks>
internal sealed class GzipTrailerCheck(Stream decompressed, GzipTrailerCheck.Tail input) : ReadOnlyForwardStream
{
    private readonly Crc32 _crc = new();
    private long _length;
    private bool _checked;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = decompressed.Read(buffer);
        if (n > 0)
        {
            _crc.Append(buffer[..n]);
            _length += n;
        }
        else if (buffer.Length > 0 && !_checked)
        {
            _checked = true;
            Verify();
        }
        return n;
    }

    private void Verify()
    {
        input.ReadToEnd();
        Span<byte> expected = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(expected, _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(expected[4..], (uint)_length);
        if (input.Count < 18 || !input.Last8.SequenceEqual(expected))
            throw new InvalidDataException("the gzip stream is cut short or corrupt: its last 8 bytes are not the CRC-32 and length of its content");
    }

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>The compressed input, passed through, keeping its last 8 bytes.</summary>
    internal sealed class Tail(Stream inner) : ReadOnlyForwardStream
    {
        private readonly byte[] _last = new byte[8];

        public long Count { get; private set; }

        /// <summary>The last 8 bytes read (fewer at the start when fewer were read).</summary>
        public ReadOnlySpan<byte> Last8 => Count >= 8 ? _last : _last.AsSpan(8 - (int)Count);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            if (n >= 8)
            {
                buffer.Slice(n - 8, 8).CopyTo(_last);
            }
            else if (n > 0)
            {
                _last.AsSpan(n).CopyTo(_last);
                buffer[..n].CopyTo(_last.AsSpan(8 - n));
            }
            Count += n;
            return n;
        }

        public void ReadToEnd()
        {
            Span<byte> chunk = stackalloc byte[4096];
            while (Read(chunk) > 0)
            {
            }
        }

        public override long Position { get => Count; set => throw new NotSupportedException(); }
    }
}
