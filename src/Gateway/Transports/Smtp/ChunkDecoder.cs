using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Decodes the chunks of a BDAT message (RFC 3030) into one spool: no dot-stuffing and no end-of-data line (the sizes
/// frame the data), but the same rule for line endings as DATA (<see cref="DataDecoder"/>): bare CR, bare LF and NUL
/// are refused or normalised, so the upstream only ever sees CRLF lines. A chunk may end anywhere, even between the
/// CR and the LF of one line end: the state carries over to the next chunk.
/// </summary>
public sealed class ChunkDecoder(BareLineEndings mode, long maxSize)
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private bool _afterCr;

    /// <summary>A bare CR, bare LF or NUL was seen.</summary>
    public bool SawBareLineEnding { get; private set; }

    public bool Oversize { get; private set; }

    /// <summary>Octets of the chunks read so far, as the client sent them (what BDAT sizes count).</summary>
    public long RawLength { get; private set; }

    public long ContentLength { get; private set; }

    public void Feed(ReadOnlySpan<byte> input, MessageSpool sink)
    {
        RawLength += input.Length;
        var i = 0;
        while (i < input.Length)
        {
            if (_afterCr)
            {
                _afterCr = false;
                if (input[i] == (byte)'\n')
                {
                    Emit(Crlf, sink);
                    i++;
                    continue;
                }
                BareLineEnding(sink); // the CR was bare; input[i] is looked at again
            }
            var rest = input[i..];
            var run = rest.IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
            if (run < 0)
            {
                Emit(rest, sink);
                return;
            }
            if (run > 0)
                Emit(rest[..run], sink);
            i += run + 1;
            switch (rest[run])
            {
                case (byte)'\r':
                    _afterCr = true;
                    break;
                case (byte)'\n':
                    BareLineEnding(sink);
                    break;
                default:
                    SawBareLineEnding = true; // NUL: dropped
                    break;
            }
        }
    }

    /// <summary>After BDAT ... LAST: a CR that ended the last chunk was bare.</summary>
    public void Finish(MessageSpool sink)
    {
        if (_afterCr)
        {
            _afterCr = false;
            BareLineEnding(sink);
        }
    }

    private void BareLineEnding(MessageSpool sink)
    {
        SawBareLineEnding = true;
        if (mode == BareLineEndings.Normalize)
            Emit(Crlf, sink);
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
