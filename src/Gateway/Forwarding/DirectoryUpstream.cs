using System.Text;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// Writes each accepted message to a directory as <c>ID.eml</c> with its envelope in <c>ID.json</c> beside it,
/// flushed to disk before the client hears 250. For a first run without a mail server, and for tests.
/// </summary>
public sealed class DirectoryUpstream(string directory, TimeProvider? time = null) : IUpstream
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public async Task<UpstreamResult> DeliverAsync(Envelope envelope, string header, Stream message, CancellationToken cancellationToken)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var name = $"{now.UtcDateTime:yyyyMMddTHHmmssfff}-{envelope.TransactionId}";
        var eml = Path.Combine(directory, name + ".eml");
        var json = Path.Combine(directory, name + ".json");
        var temp = Path.Combine(directory, "." + name + ".tmp");
        try
        {
            Directory.CreateDirectory(directory);
            var meta = new
            {
                id = envelope.TransactionId,
                mail_from = envelope.Sender.Address,
                rcpt_to = envelope.Recipients.Select(r => r.Address).ToArray(),
                received = now,
            };
            await WriteDurablyAsync(json + ".tmp", async s => await JsonSerializer.SerializeAsync(s, meta, JsonOptions, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            File.Move(json + ".tmp", json, overwrite: true);
            await WriteDurablyAsync(temp, async s =>
            {
                await s.WriteAsync(Encoding.UTF8.GetBytes(header), cancellationToken).ConfigureAwait(false);
                message.Position = 0;
                await message.CopyToAsync(s, cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            File.Move(temp, eml, overwrite: true);
            return new UpstreamResult(new Reply(250, "2.0.0", $"Ok: stored as {envelope.TransactionId}"), $"stored {name}.eml");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            TryDelete(json + ".tmp");
            TryDelete(json);
            return new UpstreamResult(Reply.StorageError, $"cannot store in {directory}: {e.Message}");
        }
    }

    private static async Task WriteDurablyAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
        await write(stream).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        stream.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
