namespace Gateway.Mime;

/// <summary>How far the gateway unpacks a message and its archives before calling it a limit violation.</summary>
public sealed record MimeLimits(int MaxDepth, int MaxParts, long MaxArchiveBytes, int MaxArchiveEntries, int MaxArchiveRatio, int MaxArchiveNesting)
{
    public static readonly MimeLimits Default = new(20, 500, 100L * 1024 * 1024, 1000, 100, 2);
}
