using System.Buffers.Binary;
using System.Text;

namespace Gateway.Transports.Milter;

/// <summary>A parsed command from the MTA.</summary>
public abstract record MilterRequest
{
    /// <summary>Parses a packet; a payload that breaks the command's layout throws <see cref="MilterProtocolException"/>.</summary>
    public static MilterRequest Parse(MilterPacket packet)
    {
        var data = packet.Payload.Span;
        switch ((MilterCommand)packet.Code)
        {
            case MilterCommand.OptionNegotiation:
                if (data.Length < 12)
                    throw new MilterProtocolException("option negotiation shorter than 12 bytes");
                return new OptionNegotiationRequest(BinaryPrimitives.ReadUInt32BigEndian(data),
                    (MilterActions)BinaryPrimitives.ReadUInt32BigEndian(data[4..]), (MilterSteps)BinaryPrimitives.ReadUInt32BigEndian(data[8..]));
            case MilterCommand.Macro:
                {
                    if (data.Length < 1)
                        throw new MilterProtocolException("macro packet without a command");
                    var strings = Strings(data[1..], "macro");
                    if (strings.Count % 2 != 0)
                        throw new MilterProtocolException("macro packet with a name but no value");
                    var macros = new Dictionary<string, string>(StringComparer.Ordinal);
                    for (var i = 0; i < strings.Count; i += 2)
                        macros[strings[i]] = strings[i + 1];
                    return new MacroRequest((MilterCommand)data[0], macros);
                }
            case MilterCommand.Connect:
                {
                    var host = Take(ref data, "connect host name");
                    if (data.Length < 1)
                        throw new MilterProtocolException("connect packet without an address family");
                    var family = (char)data[0];
                    data = data[1..];
                    if (family == 'U')
                        return new ConnectRequest(host, family, 0, "");
                    if (data.Length < 2)
                        throw new MilterProtocolException("connect packet without a port");
                    var port = BinaryPrimitives.ReadUInt16BigEndian(data);
                    data = data[2..];
                    return new ConnectRequest(host, family, port, Take(ref data, "connect address"));
                }
            case MilterCommand.Helo:
                return new HeloRequest(Take(ref data, "HELO name"));
            case MilterCommand.Mail:
                {
                    var args = Strings(data, "MAIL");
                    return args.Count == 0 ? throw new MilterProtocolException("MAIL without an address") : new MailRequest(args[0], args.Skip(1).ToList());
                }
            case MilterCommand.Rcpt:
                {
                    var args = Strings(data, "RCPT");
                    return args.Count == 0 ? throw new MilterProtocolException("RCPT without an address") : new RcptRequest(args[0], args.Skip(1).ToList());
                }
            case MilterCommand.Header:
                {
                    var name = Take(ref data, "header name");
                    return new HeaderRequest(name, Take(ref data, "header value"));
                }
            case MilterCommand.Data:
                return new DataRequest();
            case MilterCommand.EndOfHeaders:
                return new EndOfHeadersRequest();
            case MilterCommand.Body:
                return new BodyRequest(packet.Payload);
            case MilterCommand.EndOfBody:
                return new EndOfBodyRequest(packet.Payload);
            case MilterCommand.Abort:
                return new AbortRequest();
            case MilterCommand.Quit:
                return new QuitRequest(NewConnection: false);
            case MilterCommand.QuitNewConnection:
                return new QuitRequest(NewConnection: true);
            case MilterCommand.Unknown:
                return new UnknownCommandRequest(data.Length == 0 ? "" : Take(ref data, "unknown command"));
            default:
                throw new MilterProtocolException($"unknown command 0x{packet.Code:x2}");
        }
    }

    /// <summary>One NUL-terminated string off the front of <paramref name="data"/>.</summary>
    private static string Take(ref ReadOnlySpan<byte> data, string what)
    {
        var end = data.IndexOf((byte)0);
        if (end < 0)
            throw new MilterProtocolException($"{what} is not NUL-terminated");
        var text = Decode(data[..end]);
        data = data[(end + 1)..];
        return text;
    }

    private static List<string> Strings(ReadOnlySpan<byte> data, string what)
    {
        var list = new List<string>();
        while (data.Length > 0)
            list.Add(Take(ref data, what));
        return list;
    }

    /// <summary>UTF-8 where valid (SMTPUTF8 addresses and headers), Latin-1 byte for byte where not.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes) =>
        System.Text.Unicode.Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
}

public sealed record OptionNegotiationRequest(uint Version, MilterActions Actions, MilterSteps Steps) : MilterRequest;

/// <summary>Macros for the command that follows (<paramref name="ForCommand"/>).</summary>
public sealed record MacroRequest(MilterCommand ForCommand, IReadOnlyDictionary<string, string> Macros) : MilterRequest;

/// <param name="Family">'4', '6', 'L' (a Unix socket) or 'U' (unknown).</param>
public sealed record ConnectRequest(string HostName, char Family, ushort Port, string Address) : MilterRequest;

public sealed record HeloRequest(string Name) : MilterRequest;

/// <param name="Sender">As the client wrote it, angle brackets included.</param>
/// <param name="Parameters">ESMTP parameters, "SIZE=1234".</param>
public sealed record MailRequest(string Sender, IReadOnlyList<string> Parameters) : MilterRequest;

public sealed record RcptRequest(string Recipient, IReadOnlyList<string> Parameters) : MilterRequest;

public sealed record DataRequest : MilterRequest;

/// <param name="Value">Postfix strips the one space after the colon unless SMFIP_HDR_LEADSPC was negotiated.</param>
public sealed record HeaderRequest(string Name, string Value) : MilterRequest;

public sealed record EndOfHeadersRequest : MilterRequest;

public sealed record BodyRequest(ReadOnlyMemory<byte> Chunk) : MilterRequest;

public sealed record EndOfBodyRequest(ReadOnlyMemory<byte> FinalChunk) : MilterRequest;

public sealed record AbortRequest : MilterRequest;

public sealed record QuitRequest(bool NewConnection) : MilterRequest;

public sealed record UnknownCommandRequest(string Command) : MilterRequest;
