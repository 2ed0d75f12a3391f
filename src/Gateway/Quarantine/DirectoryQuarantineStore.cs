using System.Text;
using System.Text.Json;

namespace Gateway.Quarantine;

/// <summary>
/// The quarantine of one gateway in a directory: ID.eml (the bytes exactly as they would have been forwarded) and
/// ID.json (the entry), each written to a temporary file, flushed to disk and renamed; a failure at any point
/// (disk full, I/O error, a failing source stream) deletes what was written, so nothing half-written remains.
/// Releases and deletions are appended to audit.log (one JSON object a line).
/// </summary>
public sealed class DirectoryQuarantineStore(string directory) : IQuarantineStore
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions AuditJson = new(Json) { WriteIndented = false };

    public string Directory => directory;

    public string Describe() => $"directory {directory}";

    public async Task<string?> SaveAsync(QuarantineEntry entry, string header, Stream message, CancellationToken cancellationToken)
    {
        if (!IsSafeId(entry.Id))
            return "unsafe id";
        var eml = MessagePath(entry.Id);
        var json = EntryPath(entry.Id);
        try
        {
            System.IO.Directory.CreateDirectory(directory);
            await WriteAsync(eml, async s =>
            {
                await s.WriteAsync(Encoding.UTF8.GetBytes(header), cancellationToken).ConfigureAwait(false);
                message.Position = 0;
                await message.CopyToAsync(s, cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            await WriteAsync(json, s => JsonSerializer.SerializeAsync(s, entry, Json, cancellationToken), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TryDelete(eml);
            TryDelete(json);
            return e.Message;
        }
        catch
        {
            TryDelete(eml);
            TryDelete(json);
            throw;
        }
    }

    private static async Task WriteAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp";
        try
        {
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await write(stream).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            // Gone after the rename; after a failure it holds part of the message, which no one may mistake for a whole one.
            TryDelete(temp);
        }
    }

    public Task<IReadOnlyList<QuarantineEntry>> ListAsync(QuarantineQuery query, CancellationToken cancellationToken)
    {
        IReadOnlyList<QuarantineEntry> list = !System.IO.Directory.Exists(directory) ? [] :
            [.. System.IO.Directory.GetFiles(directory, "*.json").Select(Read).OfType<QuarantineEntry>().Where(query.Matches).OrderBy(e => e.Time).Take(query.Limit)];
        return Task.FromResult(list);
    }

    public Task<QuarantineEntry?> FindAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(IsSafeId(id) && File.Exists(MessagePath(id)) ? Read(EntryPath(id)) : null);

    public Task<Stream?> OpenMessageAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(IsSafeId(id) ? File.OpenRead(MessagePath(id)) : null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public string MessagePath(string id) => Path.Combine(directory, id + ".eml");

    private string EntryPath(string id) => Path.Combine(directory, id + ".json");

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsSafeId(id))
            return Task.FromResult(false);
        var existed = File.Exists(EntryPath(id));
        // The entry first: a message without its entry is not listed, and the sweep removes it.
        TryDelete(EntryPath(id));
        TryDelete(MessagePath(id));
        return Task.FromResult(existed);
    }

    public async Task<int> ExpireAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(directory))
            return 0;
        var count = 0;
        foreach (var entry in await ListAsync(new QuarantineQuery { Limit = int.MaxValue }, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Expires != default && entry.Expires <= now && await DeleteAsync(entry.Id, cancellationToken).ConfigureAwait(false))
                count++;
        }
        // Leftovers of a crash between the two renames, or of a process killed mid-write: older than a day, nothing refers to them.
        foreach (var file in System.IO.Directory.GetFiles(directory, "*.eml*"))
        {
            if ((file.EndsWith(".tmp", StringComparison.Ordinal) || !File.Exists(EntryPath(Path.GetFileNameWithoutExtension(file)))) &&
                File.GetLastWriteTimeUtc(file) < now.UtcDateTime.AddDays(-1))
                TryDelete(file);
        }
        return count;
    }

    public async Task AuditAsync(QuarantineAudit audit, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(directory);
        var line = JsonSerializer.Serialize(audit, AuditJson) + "\n";
        await File.AppendAllTextAsync(Path.Combine(directory, "audit.log"), line, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QuarantineAudit>> AuditTrailAsync(string? id, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "audit.log");
        if (!File.Exists(path))
            return [];
        var list = new List<QuarantineAudit>();
        foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                if (JsonSerializer.Deserialize<QuarantineAudit>(line, AuditJson) is { } a && (id is null || a.Id == id))
                    list.Add(a);
            }
            catch (JsonException)
            {
            }
        }
        return list;
    }

    private static QuarantineEntry? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<QuarantineEntry>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsSafeId(string id) => id.Length is > 0 and < 100 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && !id.Contains("..") && !id.StartsWith('.');

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
