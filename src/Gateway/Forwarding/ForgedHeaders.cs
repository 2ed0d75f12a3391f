namespace Gateway.Forwarding;

/// <summary>
/// Removes, from a message's header block, every header a sender could use to forge what the gateway says about the
/// message: the gateway's own score and symbol headers, and any Authentication-Results or
/// ARC-Authentication-Results that claims the gateway's authserv-id (RFC 8601 5). The rest of the message is passed
/// through byte for byte. Written by hand because MimeKit would re-serialise the message.
/// </summary>
public static class ForgedHeaders
{
    /// <summary>
    /// Also puts <paramref name="subjectPrefix"/> in front of the Subject (policy.thresholds.rewrite_subject), or adds
    /// a Subject made of it when there is none.
    /// </summary>
    /// <param name="authservId">The gateway's authserv-id (server.hostname); null leaves authentication results alone.</param>
    /// <returns><paramref name="message"/> itself when there is nothing to change, else a rewritten view of it.</returns>
    public static Stream Remove(Stream message, IReadOnlyCollection<string> names, string? subjectPrefix = null, string? authservId = null)
    {
        // Read just enough to see the whole header block: 8 KB, then more while the blank line is not in sight. No cap
        // of its own: a field past it would go upstream unlooked at, and the end of DATA has already refused a header
        // block over mime.max_header_block. The buffer is pooled (a new one per message was most of what forwarding
        // allocated for it).
        byte[] block = [];
        try
        {
            int end;
            int length;
            var size = 8 * 1024;
            while (true)
            {
                message.Position = 0;
                length = (int)Math.Min(message.Length, size);
                if (block.Length > 0)
                    System.Buffers.ArrayPool<byte>.Shared.Return(block);
                block = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
                message.ReadExactly(block, 0, length);
                end = HeaderEnd(block.AsSpan(0, length));
                if (end >= 0 || length == message.Length || size == Array.MaxLength)
                    break;
                size = (int)Math.Min(Array.MaxLength, size * 4L);
            }
            message.Position = 0;
            if (end < 0)
            {
                // No blank line within reach: every complete line read is a header line.
                end = length == message.Length ? length : block.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
            }
            return Rewrite(message, block, end, names, subjectPrefix, authservId);
        }
        finally
        {
            if (block.Length > 0)
                System.Buffers.ArrayPool<byte>.Shared.Return(block);
        }
    }

    private static Stream Rewrite(Stream message, byte[] block, int end, IReadOnlyCollection<string> names, string? subjectPrefix, string? authservId)
    {
        var fields = Fields(block, end);
        var drop = fields.Select(f => IsNamed(block, f.Start, f.End, names) || ClaimsAuthservId(block, f.Start, f.End, authservId)).ToArray();
        if (subjectPrefix is null && !drop.Contains(true))
            return message; // the common case: nothing to remove, nothing copied
        var kept = new MemoryStream(end + 64);
        var prefixed = subjectPrefix is null;
        string[] subject = ["Subject"];
        for (var i = 0; i < fields.Count; i++)
        {
            var (start, next) = fields[i];
            if (drop[i])
                continue;
            if (!prefixed && IsNamed(block, start, next, subject))
            {
                var colon = Array.IndexOf(block, (byte)':', start, next - start) + 1;
                while (colon < next && block[colon] is (byte)' ' or (byte)'\t')
                    colon++;
                kept.Write(System.Text.Encoding.UTF8.GetBytes("Subject: " + subjectPrefix));
                kept.Write(block, colon, next - colon);
                prefixed = true;
            }
            else
                kept.Write(block, start, next - start);
        }
        if (!prefixed)
            kept.Write(System.Text.Encoding.UTF8.GetBytes($"Subject: {subjectPrefix!.TrimEnd()}\r\n"));
        return new SplicedStream(kept.ToArray(), message, end);
    }

    /// <summary>Each header field of the block, with its folded lines: [start, end).</summary>
    private static List<(int Start, int End)> Fields(byte[] block, int end)
    {
        var fields = new List<(int, int)>();
        for (var start = 0; start < end;)
        {
            var next = LineEnd(block, start, end);
            while (next < end && block[next] is (byte)' ' or (byte)'\t')
                next = LineEnd(block, next, end);
            fields.Add((start, next));
            start = next;
        }
        return fields;
    }

    private static int LineEnd(byte[] block, int start, int end)
    {
        var lf = Array.IndexOf(block, (byte)'\n', start, end - start);
        return lf < 0 ? end : lf + 1;
    }

    /// <summary>Offset just after the header block's last line (before the blank line), or -1.</summary>
    private static int HeaderEnd(ReadOnlySpan<byte> block)
    {
        if (block.StartsWith("\r\n"u8))
            return 0;
        var i = block.IndexOf("\r\n\r\n"u8);
        return i < 0 ? -1 : i + 2;
    }

    private static bool IsNamed(byte[] block, int start, int end, IReadOnlyCollection<string> names)
    {
        var colon = Array.IndexOf(block, (byte)':', start, end - start);
        if (colon < 0)
            return false;
        var field = block.AsSpan(start, colon - start).TrimEnd(" \t"u8);
        foreach (var name in names)
        {
            if (field.Length == name.Length && System.Text.Ascii.EqualsIgnoreCase(field, name))
                return true;
        }
        return false;
    }

    private static readonly string[] AuthenticationResults = ["Authentication-Results"];
    private static readonly string[] ArcAuthenticationResults = ["ARC-Authentication-Results"];

    /// <summary>An (ARC-)Authentication-Results field whose authserv-id is ours, whatever its case, folding or comments.</summary>
    private static bool ClaimsAuthservId(byte[] block, int start, int end, string? authservId)
    {
        if (authservId is null)
            return false;
        var arc = IsNamed(block, start, end, ArcAuthenticationResults);
        if (!arc && !IsNamed(block, start, end, AuthenticationResults))
            return false;
        var colon = Array.IndexOf(block, (byte)':', start, end - start);
        var value = System.Text.Encoding.UTF8.GetString(block, colon + 1, end - colon - 1);
        return string.Equals(AuthservIdOf(value, arc), authservId, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The authserv-id of a header value: the first token after comments and folding (after "i=N;" for ARC).</summary>
    internal static string? AuthservIdOf(string value, bool arc)
    {
        var i = 0;
        if (arc)
        {
            var semicolon = value.IndexOf(';');
            if (semicolon < 0)
                return null;
            i = semicolon + 1;
        }
        while (true)
        {
            while (i < value.Length && char.IsWhiteSpace(value[i]))
                i++;
            if (i >= value.Length || value[i] != '(')
                break;
            for (var depth = 0; i < value.Length; i++)
            {
                if (value[i] == '\\')
                    i++;
                else if (value[i] == '(')
                    depth++;
                else if (value[i] == ')' && --depth == 0)
                {
                    i++;
                    break;
                }
            }
        }
        if (i < value.Length && value[i] == '"')
        {
            var close = value.IndexOf('"', i + 1);
            return close < 0 ? null : value[(i + 1)..close];
        }
        var stop = i;
        while (stop < value.Length && !char.IsWhiteSpace(value[stop]) && value[stop] is not (';' or '('))
            stop++;
        return stop > i ? value[i..stop] : null;
    }

    /// <summary>A read-only, seekable stream: <c>head</c>, then <c>tail</c> from <c>tailOffset</c> on.</summary>
    private sealed class SplicedStream(byte[] head, Stream tail, long tailOffset) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => head.Length + tail.Length - tailOffset;

        public override long Position
        {
            get => _position;
            set => _position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < head.Length)
            {
                var n = (int)Math.Min(buffer.Length, head.Length - _position);
                head.AsSpan((int)_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            tail.Position = tailOffset + (_position - head.Length);
            var read = tail.Read(buffer);
            _position += read;
            return read;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                tail.Dispose();
            base.Dispose(disposing);
        }
    }
}
