using System.Text;

namespace Gateway.Tracking;

/// <summary>
/// Finds Subject and Message-ID in a message's header block for the transaction record, without a MIME parse: it
/// reads at most <see cref="MaxHeaderBytes"/> bytes, stops at the first empty line, unfolds, and decodes encoded-words
/// (RFC 2047) with MimeKit. Values are kept as received, cut to <see cref="MaxValue"/> characters; escaping is each sink's job.
/// </summary>
public static class HeaderScan
{
    public const int MaxHeaderBytes = 64 * 1024;
    public const int MaxValue = 998;

    public static (string? MessageId, string? Subject) Find(MessageSpool? message)
    {
        if (message is null)
            return (null, null);
        try
        {
            using var stream = message.OpenRead();
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(MaxHeaderBytes, message.Length));
            try
            {
                var read = stream.ReadAtLeast(buffer, (int)Math.Min(MaxHeaderBytes, message.Length), throwOnEndOfStream: false);
                return Find(buffer.AsSpan(0, read));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            return (null, null);
        }
    }

    /// <summary>From a header list MimeKit has parsed already (the transaction's one parse).</summary>
    public static (string? MessageId, string? Subject) Find(MimeKit.HeaderList headers) =>
        (headers[MimeKit.HeaderId.MessageId]?.Trim() is { Length: > 0 } id ? Cut(id) : null,
         headers[MimeKit.HeaderId.Subject]?.Trim() is { } subject ? Cut(subject) : null);

    public static (string? MessageId, string? Subject) Find(ReadOnlySpan<byte> header)
    {
        string? messageId = null;
        string? subject = null;
        // Only the header block is decoded and split: the body (up to 64 KB of it) was most of the cost per message.
        header = header[..HeaderBlockLength(header)];
        var text = Encoding.UTF8.GetString(header);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
                break; // the end of the header block
            if (line[0] is ' ' or '\t')
                continue;
            var colon = line.IndexOf(':');
            if (colon <= 0)
                continue;
            var name = line.AsSpan(0, colon).Trim();
            var isSubject = name.Equals("Subject", StringComparison.OrdinalIgnoreCase);
            var isId = name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase);
            if (!(isSubject && subject is null || isId && messageId is null))
                continue;
            var value = new StringBuilder(line[(colon + 1)..]);
            while (i + 1 < lines.Length && lines[i + 1].Length > 0 && lines[i + 1][0] is ' ' or '\t' && value.Length < MaxValue * 4)
                value.Append(lines[++i].TrimEnd('\r'));
            var raw = value.ToString().Trim();
            if (isSubject)
                subject = Cut(raw.Contains("=?", StringComparison.Ordinal) ? MimeKit.Utils.Rfc2047.DecodeText(Encoding.UTF8.GetBytes(raw)) : raw);
            else
                messageId = Cut(raw);
            if (subject is not null && messageId is not null)
                break;
        }
        return (messageId, subject);
    }

    /// <summary>The bytes up to and including the first empty line (LF or CRLF), or all of them.</summary>
    private static int HeaderBlockLength(ReadOnlySpan<byte> header)
    {
        if (header.Length > 0 && header[0] == (byte)'\n' || header.StartsWith("\r\n"u8))
            return 0;
        for (var from = 0; from < header.Length;)
        {
            var lf = header[from..].IndexOf((byte)'\n');
            if (lf < 0)
                break;
            var next = from + lf + 1;
            if (next < header.Length && header[next] == (byte)'\n' || header[next..].StartsWith("\r\n"u8))
                return next;
            from = next;
        }
        return header.Length;
    }

    private static string Cut(string value) => value.Length > MaxValue ? value[..MaxValue] : value;
}
