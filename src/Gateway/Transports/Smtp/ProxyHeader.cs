using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace Gateway.Transports.Smtp;

/// <summary>
/// The PROXY protocol header a load balancer sends first (haproxy's proxy-protocol.txt): version 1 (a text line,
/// <c>PROXY TCP4 src dst sport dport</c>) and version 2 (binary, TCP over IPv4 and IPv6). Believed only from
/// <c>server.proxy_protocol.trusted</c>; the transport checks that before asking. Written by hand: the format is
/// small, and no package parses it without a web server around it.
/// </summary>
public static class ProxyHeader
{
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    public enum Status { None, NeedMore, Invalid, Parsed }

    /// <summary>The client and the address it connected to; null for v1 UNKNOWN or v2 LOCAL (keep the TCP peer).</summary>
    public readonly record struct Result(Status Status, long Consumed, IPEndPoint? Source = null, IPEndPoint? Destination = null);

    /// <summary>Whether <paramref name="buffer"/> starts like a v2 header (bytes no SMTP command begins with).</summary>
    public static bool LooksLikeV2(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 5)
            return false;
        Span<byte> head = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(head);
        return head.SequenceEqual(V2Signature[..5]);
    }

    /// <summary>Looks at the first bytes of a connection.</summary>
    public static Result TryParse(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[16];
        var available = (int)Math.Min(buffer.Length, head.Length);
        buffer.Slice(0, available).CopyTo(head);
        head = head[..available];
        if (head.Length > 0 && head[0] == 0x0D)
        {
            if (!V2Signature[..Math.Min(12, head.Length)].SequenceEqual(head[..Math.Min(12, head.Length)]))
                return new(Status.None, 0);
            if (head.Length < 16)
                return new(Status.NeedMore, 0);
            return ParseV2(buffer, head);
        }
        var prefix = "PROXY "u8;
        var n = Math.Min(prefix.Length, head.Length);
        if (!prefix[..n].SequenceEqual(head[..n]))
            return new(Status.None, 0);
        if (head.Length < prefix.Length)
            return new(Status.NeedMore, 0);
        if (buffer.PositionOf((byte)'\n') is not { } lf)
            return buffer.Length > 107 ? new(Status.Invalid, 0) : new(Status.NeedMore, 0);
        var line = buffer.Slice(0, lf);
        var consumed = line.Length + 1;
        var text = Encoding.ASCII.GetString(line.ToArray()).TrimEnd('\r');
        return ParseV1(text[6..], consumed);
    }

    private static Result ParseV1(string argument, long consumed)
    {
        var parts = argument.Split(' ');
        if (parts.Length >= 1 && parts[0] == "UNKNOWN")
            return new(Status.Parsed, consumed);
        if (parts.Length != 5 || parts[0] is not ("TCP4" or "TCP6")
            || Address(parts[1], parts[0] == "TCP4") is not { } source || Address(parts[2], parts[0] == "TCP4") is not { } destination
            || !ushort.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var sourcePort)
            || !ushort.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var destinationPort))
            return new(Status.Invalid, consumed);
        return new(Status.Parsed, consumed, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort));
    }

    /// <summary>
    /// An address of the header's family, as the spec writes it: four decimal octets for TCP4 (IPAddress alone also
    /// reads "1" or "0x7f.1"), an IPv6 address without a scope for TCP6.
    /// </summary>
    private static IPAddress? Address(string text, bool v4)
    {
        if (v4)
        {
            var octets = text.Split('.');
            if (octets.Length != 4 || octets.Any(o => o.Length is 0 or > 3 || !o.All(char.IsAsciiDigit)))
                return null;
        }
        else if (!text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
            return null;
        return IPAddress.TryParse(text, out var address)
            && address.AddressFamily == (v4 ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6)
            ? address : null;
    }

    private static Result ParseV2(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> head)
    {
        var version = head[12] >> 4;
        var command = head[12] & 0x0F;
        var family = head[13];
        var length = BinaryPrimitives.ReadUInt16BigEndian(head[14..16]);
        if (version != 2 || command > 1 || 16 + length > SmtpLimits.MaxProxyHeader)
            return new(Status.Invalid, 0);
        if (buffer.Length < 16 + length)
            return new(Status.NeedMore, 0);
        var consumed = 16 + length;
        if (command == 0 || family == 0x00)
            return new(Status.Parsed, consumed); // LOCAL (a health check) or UNSPEC: the TCP peer is the client
        Span<byte> body = stackalloc byte[36];
        switch (family)
        {
            case 0x11 when length >= 12: // TCP over IPv4
                buffer.Slice(16, 12).CopyTo(body);
                return new(Status.Parsed, consumed,
                    new IPEndPoint(new IPAddress(body[..4]), BinaryPrimitives.ReadUInt16BigEndian(body[8..10])),
                    new IPEndPoint(new IPAddress(body[4..8]), BinaryPrimitives.ReadUInt16BigEndian(body[10..12])));
            case 0x21 when length >= 36: // TCP over IPv6
                buffer.Slice(16, 36).CopyTo(body);
                return new(Status.Parsed, consumed,
                    new IPEndPoint(new IPAddress(body[..16]), BinaryPrimitives.ReadUInt16BigEndian(body[32..34])),
                    new IPEndPoint(new IPAddress(body[16..32]), BinaryPrimitives.ReadUInt16BigEndian(body[34..36])));
            default:
                return new(Status.Invalid, consumed); // UDP, unix sockets: not for SMTP
        }
    }
}
