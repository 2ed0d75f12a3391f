using System.Globalization;

namespace Gateway.Detection.Bayes;

/// <summary>
/// The statistics of one gateway in one local file. A batch of learns is applied under an exclusive lock file (the
/// gateway's autolearn and <c>gateway learn</c> may run at once): the current file is read, changed in memory, written
/// whole to a temporary file that is flushed to disk, and renamed over the old one. A crash at any point leaves the
/// old file or the new one, never a mix; the checksum in the file catches a file damaged in other ways.
/// </summary>
public sealed class BayesFileStore(string path, BayesRetention retention, TimeSpan? lockTimeout = null) : IBayesStore
{
    private readonly TimeSpan _lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);

    public string Path { get; } = path;

    public string Description => $"file {Path}";

    /// <summary>For tests: wraps the stream the new file is written to (to simulate a crash mid-write).</summary>
    internal Func<Stream, Stream>? WriteInterceptor { get; set; }

    /// <summary>A version that changes whenever the file is replaced: its write time and length.</summary>
    private string CurrentVersion()
    {
        var info = new FileInfo(Path);
        return info.Exists ? $"{info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)}/{info.Length.ToString(CultureInfo.InvariantCulture)}" : "none";
    }

    public async Task<BayesSnapshot?> LoadAsync(string? knownVersion, CancellationToken cancellationToken)
    {
        var version = CurrentVersion();
        if (version == knownVersion)
            return null;
        var (data, readVersion) = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return data.Snapshot(readVersion);
    }

    private async Task<(BayesData Data, string Version)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var version = CurrentVersion();
            var bytes = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
            return (BayesData.Read(bytes), version);
        }
        catch (FileNotFoundException)
        {
            return (new BayesData(), "none");
        }
        catch (DirectoryNotFoundException)
        {
            return (new BayesData(), "none");
        }
    }

    public async Task<IReadOnlyList<LearnOutcome>> LearnAsync(IReadOnlyList<LearnItem> items, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
            return [];
        using var lockFile = await LockAsync(cancellationToken).ConfigureAwait(false);
        var (data, _) = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = items.Select(data.Apply).ToList();
        data.Prune(retention);
        await WriteAsync(data, cancellationToken).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>Writes the data to a temporary file beside the store, flushes it to disk, and renames it over the store.</summary>
    private async Task WriteAsync(BayesData data, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temporary = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                var target = WriteInterceptor?.Invoke(file) ?? file;
                data.Write(target);
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An exclusive lock on PATH.lock (held open without sharing), waited for up to the lock timeout.</summary>
    private async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var deadline = DateTime.UtcNow + _lockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
