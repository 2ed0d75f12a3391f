using System.Buffers.Binary;
using System.IO.Hashing;

namespace Gateway.Mime;

/// <summary>
/// The content of a gzip stream, checked against the stream's trailer when its end is read: the CRC-32 and the
/// length (mod 2^32) of what came out must be the last 8 bytes of the stream (RFC 1952), followed by nothing but
/// zero bytes, if anything. Otherwise reading the end throws <see cref="InvalidDataException"/>, so a gzip stream
/// cut short or corrupted is not readable rather than listed as the part of it that came out.
/// </summary>
/// <remarks>
/// Written by hand (a few lines over System.IO.Hashing's CRC-32) because no decoder at hand reports it:
/// SharpCompress's GZipReader and .NET's GZipStream both return the bytes they had when the input ends early
/// (measured with SharpCompress 0.50.9 and .NET 10), and SharpCompress's GZipStream checks the trailer only when
/// disposed and not at all when nothing came out. The input is read to its end first, so that the bytes the
/// decoder read ahead do not matter. .NET's GZipStream decodes a stream of several gzip members as one content
/// (as gzip(1) does): its last trailer is then not the CRC-32 of all of them, so such a stream (rare in mail) fails
/// the check, unless its last 8 bytes are the CRC-32 and length of everything that came out, which was then all
/// inspected. Bytes other than zeros after the trailer fail it too. Zero bytes after the
/// trailer are padding, as tape and block-padded tools write it, and gzip(1) accepts it ("decompression OK,
/// trailing zero bytes ignored"): they are read (4 KB at a time, never kept) and counted, not decompressed. The
/// padding is bounded by what bounds the input: the message's size, or the archive limits of the archive it is in.
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
        if (!input.EndsWithTrailer(expected))
            throw new InvalidDataException("the gzip stream is cut short or corrupt: its last 8 bytes (before any zero padding) are not the CRC-32 and length of its content");
    }

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>
    /// The compressed input, passed through, keeping the 8 bytes that end at its last non-zero byte and the length
    /// of the run of zero bytes after them: enough to find the trailer in front of any zero padding.
    /// </summary>
    internal sealed class Tail(Stream inner) : ReadOnlyForwardStream
    {
        /// <summary>Header (10 bytes), the shortest deflate data (2: an empty final block) and trailer (8).</summary>
        private const int ShortestMember = 18;

        private readonly byte[] _beforeZeros = new byte[8];

        public long Count { get; private set; }

        /// <summary>The zero bytes at the end of what was read so far.</summary>
        public long TrailingZeros { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            var read = buffer[..n];
            var last = read.LastIndexOfAnyExcept((byte)0);
            if (last < 0)
            {
                TrailingZeros += n;
            }
            else
            {
                // The zeros before this read's last non-zero byte are no longer trailing: they join the window.
                Span<byte> zeros = stackalloc byte[8];
                zeros.Clear();
                Append(zeros[..(int)Math.Min(TrailingZeros, 8)]);
                Append(read[..(last + 1)]);
                TrailingZeros = n - 1 - last;
            }
            Count += n;
            return n;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length >= 8)
            {
                bytes[^8..].CopyTo(_beforeZeros);
                return;
            }
            _beforeZeros.AsSpan(bytes.Length).CopyTo(_beforeZeros);
            bytes.CopyTo(_beforeZeros.AsSpan(8 - bytes.Length));
        }

        /// <summary>
        /// Whether the input ends with <paramref name="trailer"/>, then zero bytes only (none or more), after at
        /// least a gzip header and an empty deflate block. The trailer's own last zero bytes (a length under 16 MB
        /// ends with one) are part of the trailing run; its last non-zero byte must be the input's.
        /// </summary>
        public bool EndsWithTrailer(ReadOnlySpan<byte> trailer)
        {
            var significant = trailer.LastIndexOfAnyExcept((byte)0) + 1;
            var ownZeros = trailer.Length - significant;
            var padding = TrailingZeros - ownZeros;
            return padding >= 0
                && Count - padding >= ShortestMember
                && Count - TrailingZeros >= significant
                && _beforeZeros.AsSpan(8 - significant).SequenceEqual(trailer[..significant]);
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
