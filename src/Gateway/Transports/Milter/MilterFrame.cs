using System.Buffers;
using System.Buffers.Binary;

namespace Gateway.Transports.Milter;

/// <summary>One packet: a command (or response) byte and its payload.</summary>
public readonly record struct MilterPacket(byte Code, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The milter framing: a 4-byte big-endian length (the code byte plus the payload), the code, the payload. A length
/// of zero or above <paramref name="maxPacket"/> is refused before anything is buffered, so a peer cannot make the
/// gateway allocate what it declares.
/// </summary>
public static class MilterFrame
{
    /// <summary>Postfix sends body chunks of at most 64 KB unless larger ones are negotiated (SMFIP_MDS_*).</summary>
    public const int DefaultMaxPacket = 65535 + 1;

    /// <summary>Takes one whole packet off the front of <paramref name="buffer"/>; false when more bytes are needed.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxPacket, out MilterPacket packet)
    {
        packet = default;
        if (buffer.Length < 4)
            return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length == 0)
            throw new MilterProtocolException("empty packet");
        if (length > (uint)maxPacket)
            throw new MilterProtocolException($"packet of {length} bytes exceeds the limit of {maxPacket}");
        if (buffer.Length < 4 + length)
            return false;
        var body = buffer.Slice(4, length);
        packet = new MilterPacket(body.FirstSpan[0], body.Slice(1).ToArray());
        buffer = buffer.Slice(4 + length);
        return true;
    }

    /// <summary>A packet with <paramref name="code"/> and the given payload parts concatenated.</summary>
    public static byte[] Write(byte code, params ReadOnlySpan<byte[]> parts)
    {
        var length = 1;
        foreach (var part in parts)
            length += part.Length;
        var frame = new byte[4 + length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)length);
        frame[4] = code;
        var at = 5;
        foreach (var part in parts)
        {
            part.CopyTo(frame, at);
            at += part.Length;
        }
        return frame;
    }
}
