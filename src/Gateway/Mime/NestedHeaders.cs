namespace Gateway.Mime;

/// <summary>
/// One linear pass over a whole message for the header blocks MimeKit parses below the top one: the headers of
/// each MIME part (after a line that starts with "--") and of each embedded message (after part headers that
/// declare a message/ type). A folded field there costs MimeKit quadratic time as it does at the top (measured,
/// MimeKit 4.18.2: a Subject folded over 1.8 MB inside a message/rfc822 part takes 8 s to parse, a part's folded
/// Content-Description 5 s), so one message could hold the CPU for minutes. Each folded field is bounded by
/// <see cref="MimeLimits.MaxHeaderSize"/>, and all of them together by <see cref="MimeLimits.MaxHeaderBlock"/>.
/// </summary>
/// <remarks>
/// Written by hand: it only finds line starts, as <see cref="HeaderBlock"/> does. Body text that merely looks like
/// a header context (a signature's "-- ") costs nothing unless a run of indented lines follows it, and only a run
/// over 100 KB right after such a line would be counted against the limits.
/// </remarks>
public static class NestedHeaders
{
    /// <param name="skipTop">The top header block was checked already (<see cref="HeaderBlock"/>): its fields are not counted again.</param>
    /// <returns>The limit a nested header block exceeds, or null.</returns>
    public static string? Check(Stream message, MimeLimits limits, bool skipTop)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var scan = new Scan(limits, skipTop);
            int n;
            while ((n = message.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (scan.Feed(buffer.AsSpan(0, n)) is { } violation)
                    return violation;
            }
            return scan.End();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private sealed class Scan(MimeLimits limits, bool skipTop)
    {
        private bool _inHeaders = true;
        private bool _top = true;
        private bool _declaresMessage; // this header block says the body is a message: its headers come next
        private bool _atLineStart = true;
        private long _lineLength;
        private int _headLength;
        private readonly byte[] _head = new byte[24]; // the first bytes of the line, to see "content-type:" and "message/"
        private long _field;
        private bool _folded;
        private bool _fieldIsContentType;
        private long _foldedTotal;

        /// <summary>Line by line: the end of each line is found with a vectorised search, and only its first bytes are looked at.</summary>
        public string? Feed(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                if (_atLineStart)
                {
                    _atLineStart = false;
                    _lineLength = 0;
                    _headLength = 0;
                }
                var lf = bytes.IndexOf((byte)'\n');
                var piece = lf < 0 ? bytes : bytes[..(lf + 1)];
                if (_headLength < _head.Length)
                {
                    var k = Math.Min(_head.Length - _headLength, piece.Length);
                    piece[..k].CopyTo(_head.AsSpan(_headLength));
                    _headLength += k;
                }
                _lineLength += piece.Length;
                // A run of folded lines is refused as soon as it passes the limit, even within one long line.
                if (Counting && _head[0] is (byte)' ' or (byte)'\t' && _field + _lineLength > limits.MaxHeaderSize)
                    return $"a header field of a MIME part or embedded message larger than {limits.MaxHeaderSize} bytes";
                if (lf < 0)
                    return null;
                if (EndOfLine() is { } violation)
                    return violation;
                _atLineStart = true;
                bytes = bytes[(lf + 1)..];
            }
            return null;
        }

        /// <summary>In a header block whose fields are counted here.</summary>
        private bool Counting => _inHeaders && !(_top && skipTop);

        public string? End() => _atLineStart ? EndField() : EndOfLine() ?? EndField();

        private string? EndOfLine()
        {
            var head = _head.AsSpan(0, _headLength);
            if (!_inHeaders)
            {
                if (head.StartsWith("--"u8))
                {
                    _inHeaders = true; // a boundary, perhaps: the part's header block follows
                    _top = false;
                    _declaresMessage = false;
                }
                return null;
            }
            if (_lineLength == _headLength && head.IndexOfAnyExcept((byte)'\r', (byte)'\n') < 0)
            {
                var violation = EndField();
                _inHeaders = _declaresMessage; // an embedded message's own header block starts at once
                _top = false;
                _declaresMessage = false;
                return violation;
            }
            if (head[0] is (byte)' ' or (byte)'\t')
            {
                _field += _lineLength;
                _folded = true;
                if (_fieldIsContentType && Declares(head))
                    _declaresMessage = true;
                return null;
            }
            var ended = EndField();
            _field = _lineLength;
            _fieldIsContentType = head.Length >= 13 && System.Text.Ascii.EqualsIgnoreCase(head[..13], "content-type:"u8);
            if (_fieldIsContentType && Declares(head[13..]))
                _declaresMessage = true;
            return ended;
        }

        /// <summary>"message/" among the first bytes of a Content-Type's value (after spaces).</summary>
        private static bool Declares(ReadOnlySpan<byte> value)
        {
            var trimmed = value.TrimStart(" \t"u8);
            return trimmed.Length >= 8 && System.Text.Ascii.EqualsIgnoreCase(trimmed[..8], "message/"u8);
        }

        private string? EndField()
        {
            var counted = _folded && !(_top && skipTop);
            if (counted)
                _foldedTotal += _field;
            _field = 0;
            _folded = false;
            return counted && _foldedTotal > limits.MaxHeaderBlock
                ? $"folded header fields of MIME parts and embedded messages larger than {limits.MaxHeaderBlock} bytes in all"
                : null;
        }
    }
}
