using System.Text;
using System.Text.Json;
using Gateway.Forwarding;
using Gateway.Smtp;

namespace Gateway.Quarantine;

/// <summary>What is known about a quarantined message, kept as ID.json beside ID.eml.</summary>
public sealed record QuarantineEntry(
    string Id,
    DateTimeOffset Time,
    string Client,
    string Helo,
    string MailFrom,
    IReadOnlyList<string> RcptTo,
    string DecidedBy,
    double Score,
    IReadOnlyList<string> Symbols,
    long Size);

/// <summary>
/// Holds messages a verdict put aside: ID.eml (the bytes exactly as they would have been forwarded) and ID.json,
/// both flushed to disk before the client is answered. Release sends the bytes with the original envelope.
/// </summary>
public sealed class QuarantineStore(string directory)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Directory => directory;

    /// <returns>null when stored, else why not (the caller answers 452 4.3.1).</returns>
    public async Task<string?> SaveAsync(QuarantineEntry entry, string header, Stream message, CancellationToken cancellationToken)
    {
        var eml = Path.Combine(directory, entry.Id + ".eml");
        var json = Path.Combine(directory, entry.Id + ".json");
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(eml);
            TryDelete(json);
            return e.Message;
        }
    }

    private static async Task WriteAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            await write(stream).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public IReadOnlyList<QuarantineEntry> List() =>
        !System.IO.Directory.Exists(directory) ? [] :
        [.. System.IO.Directory.GetFiles(directory, "*.json").Select(Read).OfType<QuarantineEntry>().OrderBy(e => e.Time)];

    public QuarantineEntry? Find(string id) => IsSafeId(id) ? Read(Path.Combine(directory, id + ".json")) : null;

    public string MessagePath(string id) => Path.Combine(directory, id + ".eml");

    public void Delete(string id)
    {
        TryDelete(MessagePath(id));
        TryDelete(Path.Combine(directory, id + ".json"));
    }

    /// <summary>Sends the stored bytes, with the original envelope, to the upstream; deletes them once it accepted.</summary>
    public async Task<UpstreamResult> ReleaseAsync(QuarantineEntry entry, IUpstream upstream, CancellationToken cancellationToken)
    {
        Envelope envelope;
        var parse = SmtpPath.TryParse($"<{entry.MailFrom}>", allowNull: true, allowBarePostmaster: false, out var sender, out _);
        var recipients = new List<SmtpPath>();
        foreach (var rcpt in entry.RcptTo)
        {
            if (SmtpPath.TryParse($"<{rcpt}>", false, true, out var path, out _) is null)
                recipients.Add(path);
        }
        if (parse is not null || recipients.Count == 0)
            return new UpstreamResult(new Reply(554, "5.5.1", "Stored envelope is not usable"), "bad envelope");
        envelope = new Envelope(entry.Id, sender, recipients, Utf8: false, EightBit: false);
        await using var stream = File.OpenRead(MessagePath(entry.Id));
        // The stored bytes already carry the Received header; one more line records the release.
        var trace = $"X-Gateway-Released: {entry.Id}; {DateTimeOffset.UtcNow:R}\r\n";
        var result = await upstream.DeliverAsync(envelope, trace, stream, cancellationToken).ConfigureAwait(false);
        if (result.Delivered)
            Delete(entry.Id);
        return result;
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

    private static bool IsSafeId(string id) => id.Length is > 0 and < 100 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && !id.Contains("..");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
