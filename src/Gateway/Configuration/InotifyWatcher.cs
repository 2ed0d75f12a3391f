using System.Runtime.InteropServices;

namespace Gateway.Configuration;

/// <summary>
/// Linux inotify, watching the configuration's own files rather than their directories: one watch per file for its
/// writes, and one per directory for names only (a file created, deleted or renamed there: editors replace a file by
/// renaming, and a glob such as rules/*.yaml takes in new files). A write to any other file of the directory (the
/// tracking database beside gateway.yaml, its -wal, bayes.db) then makes no event at all.
/// </summary>
/// <remarks>
/// Written by hand: .NET's FileSystemWatcher on Linux puts one inotify watch on each directory, with IN_MODIFY for
/// any of the write filters, so that every write to every file there wakes it (about every write of tracking.db under
/// load); its Filter only drops such events after they are read. No package on the feed watches single files. The
/// calls are libc's (inotify_init1, inotify_add_watch, poll, read, eventfd); an eventfd wakes the reading thread to
/// stop, since closing a descriptor does not interrupt a read blocked on it.
/// </remarks>
internal sealed class InotifyWatcher : IDisposable
{
    private const uint InModify = 0x2, InAttrib = 0x4, InCloseWrite = 0x8, InMovedFrom = 0x40, InMovedTo = 0x80, InCreate = 0x100,
        InDelete = 0x200, InDeleteSelf = 0x400, InMoveSelf = 0x800, InQueueOverflow = 0x4000, InIgnored = 0x8000,
        InOnlyDir = 0x0100_0000, InExclUnlink = 0x0400_0000;
    private const int CloseOnExec = 0x80000; // O_CLOEXEC, IN_CLOEXEC and EFD_CLOEXEC alike
    private const short PollIn = 0x1, PollErr = 0x8, PollHup = 0x10, PollInvalid = 0x20;
    private const int Interrupted = 4, WouldBlock = 11, NoSuchFile = 2, NotADirectory = 20;

    /// <summary>A directory: names only (created, deleted, renamed), never the writes to its files.</summary>
    private const uint DirectoryMask = InCreate | InDelete | InMovedFrom | InMovedTo | InOnlyDir | InExclUnlink;

    /// <summary>A file: its content and metadata (touch, chmod), and its own deletion or renaming.</summary>
    private const uint FileMask = InModify | InAttrib | InCloseWrite | InDeleteSelf | InMoveSelf;

    private readonly int _fd;
    private readonly int _wake;
    private readonly Action<string?> _event;
    private readonly IReadOnlySet<string> _files;
    private readonly Dictionary<int, (string Path, bool Directory)> _watches = [];
    private readonly Lock _gate = new();
    private readonly Thread _thread;
    private bool _stopping;
    private bool _closed;

    /// <param name="files">The files to watch (full paths, no globs); those that do not exist yet are armed when created.</param>
    /// <param name="directories">Their directories (and those of globbed dependencies), watched for names only.</param>
    /// <param name="onEvent">
    /// Called on the watcher's thread with the path an event is about (a file of <paramref name="files"/>, or a name in
    /// one of <paramref name="directories"/>), or null when the kernel's queue overflowed and events were lost.
    /// </param>
    /// <exception cref="IOException">inotify cannot be used (out of instances or watches).</exception>
    /// <exception cref="DllNotFoundException">No libc with these calls (not Linux, or a libc under another name).</exception>
    public InotifyWatcher(IReadOnlySet<string> files, IEnumerable<string> directories, Action<string?> onEvent)
    {
        _files = files;
        _event = onEvent;
        _fd = inotify_init1(CloseOnExec);
        if (_fd < 0)
            throw Error("inotify_init1");
        _wake = eventfd(0, CloseOnExec);
        if (_wake < 0)
        {
            var e = Error("eventfd");
            close(_fd);
            throw e;
        }
        try
        {
            foreach (var directory in directories)
                Add(directory, DirectoryMask, directory: true);
            foreach (var file in files)
                Add(file, FileMask, directory: false);
        }
        catch
        {
            close(_wake);
            close(_fd);
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "config watcher" };
        _thread.Start();
    }

    /// <summary>Adds a watch; a path that does not exist (now) is skipped: its directory's watch sees it come.</summary>
    private void Add(string path, uint mask, bool directory)
    {
        var wd = inotify_add_watch(_fd, path, mask);
        if (wd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is NoSuchFile or NotADirectory)
                return;
            throw new IOException($"inotify_add_watch {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        _watches[wd] = (path, directory);
    }

    private void Run()
    {
        var buffer = new byte[16 * 1024];
        var polled = new PollFd[] { new() { Fd = _fd, Events = PollIn }, new() { Fd = _wake, Events = PollIn } };
        try
        {
            while (true)
            {
                polled[0].Revents = polled[1].Revents = 0;
                if (poll(polled, 2, -1) < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Interrupted)
                        continue;
                    return;
                }
                if (polled[1].Revents != 0 || Volatile.Read(ref _stopping))
                    return;
                if ((polled[0].Revents & PollIn) != 0)
                {
                    var read = read_(_fd, buffer, buffer.Length);
                    if (read < 0)
                    {
                        if (Marshal.GetLastPInvokeError() is Interrupted or WouldBlock)
                            continue;
                        return;
                    }
                    Dispatch(buffer.AsSpan(0, (int)read));
                }
                else if ((polled[0].Revents & (PollErr | PollHup | PollInvalid)) != 0)
                    return;
            }
        }
        finally
        {
            lock (_gate)
            {
                _closed = true;
                close(_wake);
                close(_fd);
            }
        }
    }

    /// <summary>Each struct inotify_event of a read: wd, mask, cookie, len, then len bytes of NUL-padded name.</summary>
    private void Dispatch(ReadOnlySpan<byte> events)
    {
        while (events.Length >= 16)
        {
            var wd = MemoryMarshal.Read<int>(events);
            var mask = MemoryMarshal.Read<uint>(events[4..]);
            var length = (int)MemoryMarshal.Read<uint>(events[12..]);
            var name = events.Slice(16, Math.Min(length, events.Length - 16));
            var end = name.IndexOf((byte)0);
            var text = System.Text.Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
            events = events[Math.Min(events.Length, 16 + length)..];
            if ((mask & InQueueOverflow) != 0)
            {
                _event(null);
                continue;
            }
            string? path;
            lock (_gate)
            {
                if (!_watches.TryGetValue(wd, out var watch))
                    continue;
                path = watch.Directory ? Path.Combine(watch.Path, text) : watch.Path;
                if (_stopping)
                    return;
                if ((mask & InIgnored) != 0)
                {
                    // Gone (deleted, or replaced by a rename over it): watch what now has its name, if anything.
                    _watches.Remove(wd);
                    if (!watch.Directory)
                        Rearm(watch.Path);
                    continue;
                }
                if (!watch.Directory && (mask & InMoveSelf) != 0)
                    inotify_rm_watch(_fd, wd); // it went elsewhere: IN_IGNORED follows, and its name is watched again
                else if (watch.Directory && (mask & (InCreate | InMovedTo)) != 0 && _files.Contains(path))
                    Rearm(path); // a new file under a watched name, written in place from now on
            }
            _event(path);
        }
    }

    /// <summary>Watches a file again; out of watches, it is not, and its directory's watch still sees it replaced.</summary>
    private void Rearm(string path)
    {
        try
        {
            Add(path, FileMask, directory: false);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
                return;
            _stopping = true;
            if (!_closed)
                write_(_wake, BitConverter.GetBytes(1UL), 8);
        }
        if (Thread.CurrentThread != _thread)
            _thread.Join(TimeSpan.FromSeconds(10));
    }

    private static IOException Error(string call) => new($"{call}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private const string Libc = "libc";

    [DllImport(Libc, SetLastError = true)]
    private static extern int inotify_init1(int flags);

    [DllImport(Libc, SetLastError = true)]
    private static extern int inotify_add_watch(int fd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mask);

    [DllImport(Libc, SetLastError = true)]
    private static extern int inotify_rm_watch(int fd, int wd);

    [DllImport(Libc, SetLastError = true)]
    private static extern int eventfd(uint initial, int flags);

    [DllImport(Libc, SetLastError = true)]
    private static extern int poll([In, Out] PollFd[] fds, ulong count, int timeout);

    [DllImport(Libc, SetLastError = true, EntryPoint = "read")]
    private static extern nint read_(int fd, byte[] buffer, nint count);

    [DllImport(Libc, SetLastError = true, EntryPoint = "write")]
    private static extern nint write_(int fd, byte[] buffer, nint count);

    [DllImport(Libc)]
    private static extern int close(int fd);
}
