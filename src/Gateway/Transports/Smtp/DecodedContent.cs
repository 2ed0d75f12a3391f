using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// What DATA (<see cref="DataDecoder"/>) and BDAT (<see cref="ChunkDecoder"/>) do alike with the bytes they decode:
/// count them against the size limit, note a bare CR, bare LF or NUL (a CRLF in its place when normalising), and
/// write them to the spool, unless the message is already over its size or condemned for a bare line ending.
/// </summary>
internal sealed class DecodedContent(BareLineEndings mode, long maxSize)
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    public bool SawBareLineEnding { get; private set; }

    public bool Oversize { get; private set; }

    public long Length { get; private set; }

    public void LineEnd(MessageSpool sink) => Emit(Crlf, sink);

    /// <summary>A bare CR or LF: refused later, or a CRLF in its place.</summary>
    public void BareLineEnding(MessageSpool sink)
    {
        SawBareLineEnding = true;
        if (mode == BareLineEndings.Normalize)
            Emit(Crlf, sink);
    }

    /// <summary>A NUL: dropped, and the message refused or normalised as for a bare line ending.</summary>
    public void Nul() => SawBareLineEnding = true;

    public void Emit(ReadOnlySpan<byte> bytes, MessageSpool sink)
    {
        if (Oversize)
            return;
        if (Length + bytes.Length > maxSize)
        {
            Oversize = true;
            return;
        }
        Length += bytes.Length;
        if (!(SawBareLineEnding && mode == BareLineEndings.Reject))
            sink.Write(bytes);
    }
}
