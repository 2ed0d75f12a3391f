namespace Gateway.Transports.Milter;

/// <summary>
/// Rebuilds the message from the MTA's header and body packets, byte for byte as the MTA will deliver it (its own
/// Received header aside, which Postfix does not show a milter). Postfix sends each header as its name and its value
/// without the colon, the value's folded lines separated by LF alone, and the space after the colon only when
/// SMFIP_HDR_LEADSPC was agreed (without it one space is assumed, as Sendmail writes); body chunks come with CRLF
/// line ends. Past <c>limits.max_message_size</c> the rest is counted, not kept.
/// </summary>
public sealed class MilterMessage(bool leadingSpace, long maxSize) : IDisposable
{
    private MessageSpool? _spool = new();
    private bool _inBody;

    /// <summary>The headers as the MTA sent them (names and values decoded), for header edits that count occurrences.</summary>
    public List<(string Name, string Value)> Headers { get; } = [];

    /// <summary>Every byte of the message, kept or not.</summary>
    public long Length { get; private set; }

    public bool TooBig => Length > maxSize;

    /// <param name="payload">An SMFIC_HEADER payload: name NUL value NUL (parsed, so known to be well formed).</param>
    public void Header(ReadOnlySpan<byte> payload, HeaderRequest parsed)
    {
        if (_inBody)
            return; // Postfix sends every header before the body; a late one is not part of the header block
        // Past the limit the message is refused as too big: its headers are counted like the rest, not kept.
        if (!TooBig)
            Headers.Add((parsed.Name, parsed.Value));
        var nul = payload.IndexOf((byte)0);
        var name = payload[..nul];
        var value = payload[(nul + 1)..];
        value = value[..value.IndexOf((byte)0)];
        Write(name);
        Write(leadingSpace ? ":"u8 : ": "u8);
        while (value.Length > 0)
        {
            var lf = value.IndexOf((byte)'\n');
            if (lf < 0)
            {
                Write(value);
                break;
            }
            // A folded line: LF becomes CRLF (one already preceded by CR stays as it is).
            Write(value[..lf]);
            Write(lf > 0 && value[lf - 1] == (byte)'\r' ? "\n"u8 : "\r\n"u8);
            value = value[(lf + 1)..];
        }
        Write("\r\n"u8);
    }

    /// <summary>The blank line between the header block and the body (once).</summary>
    public void EndOfHeaders()
    {
        if (_inBody)
            return;
        _inBody = true;
        Write("\r\n"u8);
    }

    public void Body(ReadOnlySpan<byte> chunk)
    {
        EndOfHeaders();
        Write(chunk);
    }

    /// <summary>The message so far; the caller owns it from now on.</summary>
    public MessageSpool TakeSpool()
    {
        var spool = _spool ?? throw new ObjectDisposedException(nameof(MilterMessage));
        _spool = null;
        return spool;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (_spool is null)
            return;
        var room = maxSize - Length;
        Length += bytes.Length;
        if (room > 0)
            _spool.Write(bytes.Length <= room ? bytes : bytes[..(int)room]);
    }

    public void Dispose()
    {
        _spool?.Dispose();
        _spool = null;
    }
}
