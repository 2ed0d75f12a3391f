namespace Gateway.Configuration;

/// <summary>
/// Watches the configuration file and every rule and list file it names (their directories, since editors
/// replace files by renaming) and calls back on every change to one of them.
/// </summary>
public sealed class ConfigWatcher : IDisposable
{
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Action _changed;
    private readonly HashSet<string> _files;

    public ConfigWatcher(string configPath, IEnumerable<string> dependencies, Action changed)
    {
        _changed = changed;
        _files = new HashSet<string>(new[] { Path.GetFullPath(configPath) }.Concat(dependencies), StringComparer.Ordinal);
        var directories = _files
            .Select(p => Path.GetDirectoryName(p))
            .Where(d => d is not null && Directory.Exists(d))
            .Distinct(StringComparer.Ordinal);
        try
        {
            foreach (var directory in directories)
            {
                var watcher = new FileSystemWatcher(directory!)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                    IncludeSubdirectories = false,
                };
                _watchers.Add(watcher);
                watcher.Changed += OnEvent;
                watcher.Created += OnEvent;
                watcher.Deleted += OnEvent;
                watcher.Renamed += OnEvent;
                watcher.EnableRaisingEvents = true;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        if (Relevant(e.FullPath) || e is RenamedEventArgs r && Relevant(r.OldFullPath))
            _changed();
    }

    /// <summary>One of the files, or a file a globbed dependency (rules/*.yaml) would take in.</summary>
    private bool Relevant(string path)
    {
        if (_files.Contains(path))
            return true;
        var directory = Path.GetDirectoryName(path);
        var name = Path.GetFileName(path);
        foreach (var file in _files)
        {
            var pattern = Path.GetFileName(file);
            if ((pattern.Contains('*') || pattern.Contains('?')) && Path.GetDirectoryName(file) == directory
                && System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, name))
                return true;
        }
        return false;
    }

    /// <summary>Whether this watcher covers exactly these files.</summary>
    public bool Covers(string configPath, IEnumerable<string> dependencies) =>
        _files.SetEquals(new[] { Path.GetFullPath(configPath) }.Concat(dependencies));

    public void Dispose()
    {
        foreach (var watcher in _watchers)
            watcher.Dispose();
    }
}
