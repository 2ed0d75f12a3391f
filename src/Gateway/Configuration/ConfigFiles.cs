namespace Gateway.Configuration;

/// <summary>
/// Reads configuration, rule and list files. A FIFO or a device (a rule file replaced by one, or a symlink to
/// /dev/zero) reports no length: opening a FIFO blocks until someone writes to it (a reload held its lock for
/// ever) and a device may never end. Such a file reads as empty, as an empty regular file does.
/// </summary>
internal static class ConfigFiles
{
    public static string ReadAllText(string path) => HasContent(path) ? File.ReadAllText(path) : "";

    public static string[] ReadAllLines(string path) => HasContent(path) ? File.ReadAllLines(path) : [];

    /// <summary>False for an empty file, a FIFO or a device; a missing file or a directory is left to the read, which says so.</summary>
    private static bool HasContent(string path)
    {
        var info = new FileInfo(path);
        return !info.Exists || info.Length > 0;
    }
}
