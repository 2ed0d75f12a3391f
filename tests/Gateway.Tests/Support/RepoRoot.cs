namespace Gateway.Tests.Support;

public static class RepoRoot
{
    /// <summary>The repository root: the nearest folder above the test binaries holding Gateway.sln.</summary>
    public static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
