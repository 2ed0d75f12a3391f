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
    private readonly DecodedContent _content = new(mode, maxSize);
    private bool _afterCr;

    /// <summary>A bare CR, bare LF or NUL was seen.</summary>
    public bool SawBareLineEnding => _content.SawBareLineEnding;

    public bool Oversize => _content.Oversize;

    /// <summary>Octets of the chunks read so far, as the client sent them (what BDAT sizes count).</summary>
    public long RawLength { get; private set; }

    public long ContentLength => _content.Length;

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
                    _content.LineEnd(sink);
                    i++;
                    continue;
                }
                _content.BareLineEnding(sink); // the CR was bare; input[i] is looked at again
            }
            var rest = input[i..];
            var run = rest.IndexOfAny((byte)'\r', (byte)'\n', (byte)0);
            if (run < 0)
            {
                _content.Emit(rest, sink);
                return;
            }
            if (run > 0)
                _content.Emit(rest[..run], sink);
            i += run + 1;
            switch (rest[run])
            {
                case (byte)'\r':
                    _afterCr = true;
                    break;
                case (byte)'\n':
                    _content.BareLineEnding(sink);
                    break;
                default:
                    _content.Nul();
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
            _content.BareLineEnding(sink);
        }
    }
}
