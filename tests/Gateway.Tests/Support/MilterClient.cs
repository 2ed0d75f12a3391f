using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>One packet from the milter: its code and payload.</summary>
public sealed record MilterPacketReply(char Code, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public override string ToString() => $"{Code} {Text.Replace('\0', '|')}";
}

/// <summary>
/// The MTA's side of the milter protocol over a raw socket, packet by packet, as Postfix speaks it: for tests that
/// need exact bytes (malformed and oversized packets, a peer that goes away). Reads fail the test after 30 s.
/// </summary>
public sealed class MilterClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private MilterClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<MilterClient> ConnectAsync(EndPoint endpoint)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        return new MilterClient(socket);
    }

    /// <summary>NUL-terminated strings, concatenated.</summary>
    public static byte[] Strings(params string[] values) => Encoding.UTF8.GetBytes(string.Concat(values.Select(v => v + "\0")));

    public static byte[] Packet(char code, params byte[][] parts)
    {
        var length = 1 + parts.Sum(p => p.Length);
        var frame = new byte[4 + length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)length);
        frame[4] = (byte)code;
        var at = 5;
        foreach (var part in parts)
        {
            part.CopyTo(frame, at);
            at += part.Length;
        }
        return frame;
    }

    public Task SendRawAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public Task SendAsync(char code, params byte[][] parts) => SendRawAsync(Packet(code, parts));

    /// <summary>The next packet, or null when the milter closed the connection.</summary>
    public async Task<MilterPacketReply?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix, timeout.Token))
            return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        var body = new byte[length];
        if (!await ReadExactlyAsync(body, timeout.Token))
            throw new InvalidOperationException("the milter closed the connection inside a packet");
        return new MilterPacketReply((char)body[0], body[1..]);
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            var read = await _stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            return read == buffer.Length;
        }
        catch (IOException)
        {
            return false; // reset by the milter
        }
    }

    /// <summary>Packets up to and including the first that is not a modification request (a decision).</summary>
    public async Task<List<MilterPacketReply>> ReadDecisionAsync()
    {
        var packets = new List<MilterPacketReply>();
        while (true)
        {
            var packet = await ReadAsync() ?? throw new InvalidOperationException("closed before a decision: " + string.Join(", ", packets));
            packets.Add(packet);
            if (packet.Code is not ('h' or 'i' or 'm' or 'q' or 'p'))
                return packets;
        }
    }

    /// <summary>True once the milter has closed the connection (reading anything else first is a failure).</summary>
    public async Task<bool> ClosedAsync() => await ReadAsync() is null;

    /// <summary>Postfix 3.x's offer: version 6, every action, every protocol step it knows (SMFIP_HDR_LEADSPC included).</summary>
    public async Task<(uint Version, uint Actions, uint Steps, string Macros)> NegotiateAsync(uint version = 6, uint actions = 0x1ff, uint steps = 0x1fffff)
    {
        var payload = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(payload, version);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), actions);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(8), steps);
        await SendAsync('O', payload);
        var reply = await ReadAsync() ?? throw new InvalidOperationException("no negotiation reply");
        Assert.Equal('O', reply.Code);
        var p = reply.Payload;
        return (BinaryPrimitives.ReadUInt32BigEndian(p), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4)), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(8)),
            Encoding.ASCII.GetString(p, 12, p.Length - 12));
    }

    /// <summary>Macros for <paramref name="command"/>, then the connect packet of an IPv4 client.</summary>
    public async Task ConnectAsync(string address, string name = "client.test", ushort port = 40000)
    {
        await SendAsync('D', [(byte)'C'], Strings("j", "mta.test", "{client_addr}", address, "{client_name}", name));
        var portBytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(portBytes, port);
        await SendAsync('C', Strings(name), [(byte)'4'], portBytes, Strings(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
