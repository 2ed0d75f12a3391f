namespace Gateway.Mime;

/// <summary>How far the gateway unpacks a message and its archives before calling it a limit violation.</summary>
public sealed record MimeLimits(int MaxDepth, int MaxParts, long MaxArchiveBytes, int MaxArchiveEntries, int MaxArchiveRatio, int MaxArchiveNesting)
{
    public static readonly MimeLimits Default = new(20, 500, 100L * 1024 * 1024, 1000, 100, 2);

    /// <summary>Header fields in the message's header block (nested messages' headers are parts' business).</summary>
    public int MaxHeaders { get; init; } = 1000;

    /// <summary>Bytes of one header field with its folded lines: Postfix's header_size_limit.</summary>
    public int MaxHeaderSize { get; init; } = 100 * 1024;

    /// <summary>Bytes of the whole header block.</summary>
    public long MaxHeaderBlock { get; init; } = 1024 * 1024;
}
