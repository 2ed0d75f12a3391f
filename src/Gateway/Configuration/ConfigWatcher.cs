namespace Gateway.Configuration;

/// <summary>
/// Watches the configuration file and every rule, list and key file it names, and calls back on every change to
/// one of them: a write, or a file created, deleted or renamed under one of their names (editors replace files by
/// renaming; a glob such as rules/*.yaml takes in new files). Other files of the same directories (tracking.db and
/// its -wal beside gateway.yaml, bayes.db) are not watched: on Linux their writes make no event at all
/// (<see cref="InotifyWatcher"/>); elsewhere FileSystemWatcher drops them by name.
/// </summary>
public sealed class ConfigWatcher : IDisposable
{
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly InotifyWatcher? _inotify;
    private readonly Action _changed;
    private readonly Action<string?>? _noticed;
    private readonly HashSet<string> _files;

    public ConfigWatcher(string configPath, IEnumerable<string> dependencies, Action changed)
        : this(configPath, dependencies, changed, null)
    {
    }

    /// <param name="noticed">Called with the path of every event the watcher wakes for, relevant or not (for tests).</param>
    internal ConfigWatcher(string configPath, IEnumerable<string> dependencies, Action changed, Action<string?>? noticed)
    {
        _changed = changed;
        _noticed = noticed;
        _files = new HashSet<string>(new[] { Path.GetFullPath(configPath) }.Concat(dependencies), StringComparer.Ordinal);
        var directories = _files
            .Select(p => Path.GetDirectoryName(p))
            .Where(d => d is not null && Directory.Exists(d))
            .Distinct(StringComparer.Ordinal)
            .Select(d => d!)
            .ToList();
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _inotify = new InotifyWatcher(_files.Where(f => !IsGlob(f)).ToHashSet(StringComparer.Ordinal), directories, OnEvent);
                return;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // A libc without inotify under that name: FileSystemWatcher, which wakes for every file of the directories.
            }
        }
        try
        {
            foreach (var directory in directories)
            {
                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                    IncludeSubdirectories = false,
                };
                // Only the names of our files (and globs) are raised; a rename is when either name matches.
                foreach (var file in _files.Where(f => Path.GetDirectoryName(f) == directory))
                    watcher.Filters.Add(Path.GetFileName(file));
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

    private static bool IsGlob(string path) => Path.GetFileName(path).AsSpan().IndexOfAny('*', '?') >= 0;

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        OnEvent(e.FullPath);
        if (e is RenamedEventArgs r)
            OnEvent(r.OldFullPath);
    }

    /// <summary>An event about <paramref name="path"/> (null: events were lost, so anything may have changed).</summary>
    private void OnEvent(string? path)
    {
        _noticed?.Invoke(path);
        if (path is null || Relevant(path))
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
            if (IsGlob(file) && Path.GetDirectoryName(file) == directory
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
        _inotify?.Dispose();
        foreach (var watcher in _watchers)
            watcher.Dispose();
    }
}
