namespace Gateway.Detection.Antivirus;

public enum ScanStatus
{
    /// <summary>clamd found nothing.</summary>
    Clean,

    /// <summary>clamd named a signature.</summary>
    Found,

    /// <summary>No verdict: clamd unreachable, too slow, or answering an error.</summary>
    Failed,
}

/// <summary>One scan's outcome: the signature when found, the reason when failed.</summary>
public sealed record ScanResult(ScanStatus Status, string? Signature = null, string? Error = null)
{
    public static readonly ScanResult Clean = new(ScanStatus.Clean);

    public static ScanResult Found(string signature) => new(ScanStatus.Found, signature);

    public static ScanResult Failed(string error) => new(ScanStatus.Failed, Error: error);
}
