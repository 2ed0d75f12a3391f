namespace Gateway.Mime;

/// <summary>How far the gateway unpacks a message and its archives before calling it a limit violation.</summary>
public sealed record MimeLimits(int MaxDepth, int MaxParts, long MaxArchiveBytes, int MaxArchiveEntries, int MaxArchiveRatio, int MaxArchiveNesting)
{
    public static readonly MimeLimits Default = new(20, 500, 100L * 1024 * 1024, 1000, 100, 2);

    /// <summary>Header fields in the message's header block (nested messages' headers are parts' business).</summary>
    public int MaxHeaders { get; init; } = 1000;

    /// <summary>Bytes of one header field with its folded lines: Postfix's header_size_limit.</summary>
    public int MaxHeaderSize { get; init; } = 100 * 1024;

    /// <summary>
    /// Time spent listing the archives of one message. Bytes alone do not bound it: bzip2 comes out at about 16
    /// MB/s and xz at 28 MB/s here (deflate at 230), so 100 MB of bzip2 output within the ratio takes 6 s, and more
    /// on a loaded machine: past the rules filter's budget, which would answer 451 for ever. Below that budget,
    /// the message is refused as uninspectable instead.
    /// </summary>
    public TimeSpan MaxArchiveTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes of the whole header block.</summary>
    public long MaxHeaderBlock { get; init; } = 1024 * 1024;
}
