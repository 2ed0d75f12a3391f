using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Decodes the bytes a client sends after 354: finds the end of data, removes dot-stuffing, and enforces the
/// size limit and line-ending rules while the bytes arrive.
/// <para>
/// Written by hand because SmtpServer's DATA reader is the part that falls short (it keeps both dots of a
/// leading "..", never ends an empty message, passes bare CR/LF/NUL on and buffers the whole message).
/// </para>
/// <para>
/// Only CRLF "." CRLF ends the data, where that first CRLF is a real line end (or the start of the data).
/// A bare CR, a bare LF or a NUL never starts a line, so none of the smuggling variants (<c>\n.\n</c>,
/// <c>\r.\r</c>, <c>\r\n.\n</c>, <c>\n.\r\n</c>, <c>\r\n\0.\r\n</c>) can end the message early: they stay inside
/// it and are then refused (554 5.6.0) or, in <see cref="BareLineEndings.Normalize"/> mode, turned into CRLF.
/// </para>
/// </summary>
public sealed class DataDecoder(BareLineEndings mode, long maxSize)
{
    private enum State { LineStart, Middle, AfterCr, Dot, DotCr }

    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private State _state = State.LineStart;

    public bool Completed { get; private set; }

    /// <summary>A bare CR, bare LF or NUL was seen.</summary>
    public bool SawBareLineEnding { get; private set; }

    public bool Oversize { get; private set; }

    /// <summary>Bytes of message content after removing dot-stuffing (and normalising, if asked).</summary>
    public long ContentLength { get; private set; }

    /// <summary>Bytes read from the client, including the final dot line.</summary>
    public long RawLength { get; private set; }

    /// <summary>Decodes <paramref name="input"/> into <paramref name="sink"/>.</summary>
    /// <returns>How many bytes were used: all of them, or up to and including the end-of-data line.</returns>
    public int Feed(ReadOnlySpan<byte> input, MessageSpool sink)
    {
        var i = 0;
        while (i < input.Length && !Completed)
        {
            var b = input[i];
            switch (_state)
            {
                case State.LineStart:
                    if (b == (byte)'.')
                    {
                        _state = State.Dot;
                        i++;
                    }
                    else
                        _state = State.Middle;
                    break;

                case State.Middle:
                {
                    var rest = input[i..];
                    var run = rest.IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
                    if (run < 0)
                        run = rest.Length;
                    if (run > 0)
                    {
                        Emit(rest[..run], sink);
                        i += run;
                        break;
                    }
                    i++;
                    if (b == (byte)'\r')
                        _state = State.AfterCr;
                    else if (b == (byte)'\n')
                        BareLineEnding(sink);
                    else
                        SawBareLineEnding = true; // NUL: dropped
                    break;
                }

                case State.AfterCr:
                    if (b == (byte)'\n')
                    {
                        Emit(Crlf, sink);
                        _state = State.LineStart;
                        i++;
                    }
                    else
                        BareLineEnding(sink); // the CR was bare; b is looked at again in Middle
                    break;

                case State.Dot:
                    if (b == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                    }
                    else
                        _state = State.Middle; // a leading dot with more on the line: the dot is removed
                    break;

                case State.DotCr:
                    if (b == (byte)'\n')
                    {
                        Completed = true;
                        i++;
                    }
                    else
                        BareLineEnding(sink); // "." then a bare CR: not the end; the dot is removed
                    break;
            }
        }
        RawLength += i;
        return i;
    }

    private void BareLineEnding(MessageSpool sink)
    {
        SawBareLineEnding = true;
        if (mode == BareLineEndings.Normalize)
            Emit(Crlf, sink);
        // Never a line start: only a real CRLF may begin the end-of-data line.
        _state = State.Middle;
    }

    private void Emit(ReadOnlySpan<byte> bytes, MessageSpool sink)
    {
        if (Oversize)
            return;
        if (ContentLength + bytes.Length > maxSize)
        {
            Oversize = true;
            return;
        }
        ContentLength += bytes.Length;
        if (!(SawBareLineEnding && mode == BareLineEndings.Reject))
            sink.Write(bytes);
    }
}
