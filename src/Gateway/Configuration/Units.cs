using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Configuration;

/// <summary>Readable sizes (<c>25MB</c>, <c>512KB</c>, <c>1048576</c>) and durations (<c>5m</c>, <c>30s</c>, <c>250ms</c>, <c>1h</c>).</summary>
public static partial class Units
{
    [GeneratedRegex(@"^\s*(\d+)\s*(B|KB|MB|GB|KIB|MIB|GIB)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^\s*(\d+)\s*(ms|s|m|h|d)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var m = SizePattern().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return false;
        long unit = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" or "KIB" => 1024,
            "MB" or "MIB" => 1024 * 1024,
            "GB" or "GIB" => 1024L * 1024 * 1024,
            _ => 0,
        };
        if (unit == 0 || n > long.MaxValue / unit)
            return false;
        bytes = n * unit;
        return true;
    }

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var m = DurationPattern().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 10_000_000)
            return false;
        duration = m.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
        return true;
    }

    public static string FormatSize(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)}MB" : bytes % 1024 == 0 ? $"{bytes / 1024}KB" : $"{bytes}B";
}
