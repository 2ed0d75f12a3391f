using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Decodes the bytes a client sends after 354: finds the end of data, removes dot-stuffing, and enforces the
/// size limit and line-ending rules while the bytes arrive.
/// <para>
/// Written by hand: the end of data is where smuggling happens, and no package decodes it to these rules while the
/// bytes arrive (the SMTP server library this replaced kept both dots of a leading "..", never ended an empty
/// message, passed bare CR/LF/NUL on and buffered the whole message).
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

    private readonly DecodedContent _content = new(mode, maxSize);
    private State _state = State.LineStart;

    public bool Completed { get; private set; }

    /// <summary>A bare CR, bare LF or NUL was seen.</summary>
    public bool SawBareLineEnding => _content.SawBareLineEnding;

    public bool Oversize => _content.Oversize;

    /// <summary>Bytes of message content after removing dot-stuffing (and normalising, if asked).</summary>
    public long ContentLength => _content.Length;

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
                        _content.Emit(rest[..run], sink);
                        i += run;
                        break;
                    }
                    i++;
                    if (b == (byte)'\r')
                        _state = State.AfterCr;
                    else if (b == (byte)'\n')
                        BareLineEnding(sink);
                    else
                        _content.Nul();
                    break;
                }

                case State.AfterCr:
                    if (b == (byte)'\n')
                    {
                        _content.LineEnd(sink);
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
        _content.BareLineEnding(sink);
        // Never a line start: only a real CRLF may begin the end-of-data line.
        _state = State.Middle;
    }
}
