using System.IO.Compression;
using SharpCompress.Archives.SevenZip;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using SharpCompress.Readers;
using SharpCompress.Readers.Rar;

namespace Gateway.Mime;

/// <summary>
/// Lists the files inside the archives of one message (zip, 7z, rar, tar, gzip, bzip2, xz, nested) as
/// attachments, through SharpCompress, under the message's limits: entries per archive, nesting, bytes out of
/// every decompressor together, and expansion ratio. Sizes are counted as bytes really come out, never taken
/// from an archive's headers. Whatever cannot be listed within the limits is a violation, and the first one
/// stops the listing (the message is refused as uninspectable anyway).
/// </summary>
/// <remarks>
/// Memory: rar, tar and the compressed streams are read forward with streaming readers (SharpCompress's, and
/// .NET's for tar), one entry at a time, straight from the decoded MIME part or from the entry that holds them:
/// nothing is buffered but the sniffed head of each entry, and no entry list is built. Zip and 7z are read
/// through the directory they keep at their end, so they are first copied where they can be sought (in memory
/// up to 256 KB, in a temporary file beyond, within the archive byte limit). A zip's central directory is read
/// lazily, entry by entry; SharpCompress keeps a 7z's whole header (the list of its entries) in memory, so the
/// header is walked first (<see cref="SevenZipHeaderCheck"/>) and one that declares more than the limits allow is
/// refused before it is read; its entries are counted before any is decompressed. A compressed stream holding a
/// tar (.tar.gz, .tar.bz2, .tar.xz) is one level of nesting, not two. A compressed stream cut short or corrupt
/// is not readable: bzip2's and xz's decoders check their own ends, a gzip's trailer is checked here
/// (<see cref="GzipTrailerCheck"/>). gzip is decoded by .NET's GZipStream, every member of it (see ListGzip).
/// </remarks>
internal sealed class ArchiveInspector(MimeLimits limits, List<Attachment> attachments, Action<string> violate, TimeProvider time, Action<string, bool, Stream>? html = null)
{
    private readonly long _started = time.GetTimestamp();

    /// <summary>Output below this is never called a bomb, whatever the ratio: small files compress well too.</summary>
    private const long RatioGrace = 1024 * 1024;

    private long _produced;
    private bool _stopped;
    private readonly List<string> _encrypted = [];

    /// <summary>The readers open now, outermost first: cancelled on a violation, or disposing one would read on.</summary>
    private readonly List<IReader> _readers = [];

    /// <summary>The archives (and entries) found encrypted: their content cannot be inspected.</summary>
    public IReadOnlyList<string> Encrypted => _encrypted;

    public readonly record struct Outcome(bool Macros, bool Encrypted);

    /// <summary>Lists <paramref name="source"/> (of the sniffed <paramref name="kind"/>) and the archives nested in it.</summary>
    public Outcome Inspect(Stream source, string kind, string archiveName, int nesting)
    {
        if (_stopped)
            return default;
        var input = new CountingStream(source);
        var level = new Level(archiveName, input, nesting, kind is "gzip" or "bzip2" or "xz");
        try
        {
            switch (kind)
            {
                case "zip":
                    ListZip(input, level);
                    break;
                case "rar":
                    using (var reader = RarReader.OpenReader(input, Options))
                        ListEntries(reader, level);
                    break;
                case "tar":
                    ListTar(input, level);
                    break;
                case "gzip":
                    ListGzip(input, level);
                    break;
                case "bzip2":
                    using (var bzip2 = BZip2Stream.Create(input, SharpCompress.Compressors.CompressionMode.Decompress, decompressConcatenated: true, leaveOpen: true))
                        ListSingle(bzip2, level);
                    break;
                case "xz":
                    using (var xz = new XZStream(input))
                        ListSingle(xz, level);
                    break;
                case "7z":
                    List7z(input, level);
                    break;
                default:
                    throw new ArgumentException($"not an archive type: {kind}", nameof(kind));
            }
        }
        catch (LimitExceededException)
        {
            // Already reported where it happened; every level above stops too.
        }
        catch (SharpCompress.Common.CryptographicException)
        {
            // An encrypted zip entry (SharpCompress stops at its header) or a 7z/rar with encrypted headers.
            level.Encrypted = true;
            _encrypted.Add(archiveName);
        }
        catch (Exception e) when (!_stopped && e is not (OutOfMemoryException or StackOverflowException))
        {
            // A third-party parser on hostile input: whatever it throws, the archive was not listed.
            Report($"{archiveName}: not a readable {kind} archive ({e.GetType().Name}: {e.Message})");
        }
        catch (Exception) when (_stopped)
        {
            // A limit was hit inside the decompressor, which wrapped our exception in one of its own.
        }
        return new Outcome(level.Macros, level.Encrypted);
    }

    private static readonly ReaderOptions Options = new() { LeaveStreamOpen = true };

    private sealed class Level(string name, CountingStream input, int nesting, bool isCompressedStream)
    {
        public string Name { get; } = name;
        public CountingStream Input { get; } = input;
        public int Nesting { get; } = nesting;
        public bool IsCompressedStream { get; } = isCompressedStream;
        public long Produced { get; set; }
        public int Entries { get; set; }
        public bool Macros { get; set; }
        public bool Encrypted { get; set; }
    }

    private void ListEntries(IReader reader, Level level, Func<Stream, Stream>? check = null)
    {
        _readers.Add(reader);
        try
        {
            ListEntriesOf(reader, level, check);
        }
        finally
        {
            _readers.Remove(reader);
        }
    }

    /// <summary>The entries of a streaming reader; <paramref name="check"/> wraps each one's content when given.</summary>
    private void ListEntriesOf(IReader reader, Level level, Func<Stream, Stream>? check)
    {
        while (!_stopped && reader.MoveToNextEntry())
        {
            var entry = reader.Entry;
            var name = entry.Key ?? DefaultMemberName(level.Name);
            if (!Admit(level, name, entry.IsDirectory, entry.IsEncrypted))
                continue;
            using var content = reader.OpenEntryStream();
            ListEntry(check is null ? content : check(content), name, level);
        }
    }

    /// <summary>
    /// One entry of any format: counted against the entry limit (directories too: an archive of a million empty
    /// directories costs as much to walk), its name checked for Office macros, an encrypted one recorded. True when
    /// its content is to be read.
    /// </summary>
    private bool Admit(Level level, string name, bool isDirectory, bool encrypted)
    {
        if (++level.Entries > limits.MaxArchiveEntries)
            Stop($"{level.Name}: more than {limits.MaxArchiveEntries} entries");
        if (isDirectory)
            return false;
        if (Path.GetFileName(name).Equals("vbaProject.bin", StringComparison.OrdinalIgnoreCase))
            level.Macros = true;
        if (!encrypted)
            return true;
        level.Encrypted = true;
        _encrypted.Add($"{name} in {level.Name}");
        attachments.Add(Attachment.Create(name, "", "encrypted", level.Name) with { Encrypted = true });
        return false;
    }

    /// <summary>A compressed stream (bzip2, xz): one member, named after the stream without its extension.</summary>
    private void ListSingle(Stream decompressed, Level level)
    {
        level.Entries = 1;
        ListEntry(decompressed, DefaultMemberName(level.Name), level);
    }

    /// <summary>
    /// gzip through .NET's GZipStream, which decodes every member in turn as gzip(1) and 7-Zip do, so that what is
    /// listed is what they extract: SharpCompress's GZipReader decodes only the first member, and a second one
    /// followed by a copy of the first one's trailer went unseen. Neither notices a stream cut short: the trailer
    /// is checked here (<see cref="GzipTrailerCheck"/>). The member is named by its header (<see cref="GzipHeader"/>),
    /// else after the stream without its extension.
    /// </summary>
    private void ListGzip(CountingStream input, Level level)
    {
        var tail = new GzipTrailerCheck.Tail(input);
        var head = System.Buffers.ArrayPool<byte>.Shared.Rent(GzipHeader.MaxLength);
        try
        {
            var length = tail.ReadAtLeast(head.AsSpan(0, GzipHeader.MaxLength), GzipHeader.MaxLength, throwOnEndOfStream: false);
            var name = GzipHeader.FileName(head.AsSpan(0, length));
            using var gzip = new GZipStream(new PrefixedStream(head, length, tail), CompressionMode.Decompress, leaveOpen: true);
            level.Entries = 1;
            ListEntry(new GzipTrailerCheck(gzip, tail), name ?? DefaultMemberName(level.Name), level);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(head);
        }
    }

    /// <summary>
    /// Tar through .NET's own reader: SharpCompress 0.50.9's TarReader fails on a stream that cannot seek
    /// ("Rewind can only be called after StartRecording()"), and through its ReaderFactory lists only the first
    /// entry. .NET's reads forward, entry by entry, and skips what is not read.
    /// </summary>
    private void ListTar(CountingStream input, Level level)
    {
        using var reader = new System.Formats.Tar.TarReader(input, leaveOpen: true);
        while (!_stopped && reader.GetNextEntry(copyData: false) is { } entry)
        {
            var file = entry.EntryType is System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile
                or System.Formats.Tar.TarEntryType.ContiguousFile;
            if (!Admit(level, entry.Name, isDirectory: !file, encrypted: false))
                continue;
            ListEntry(entry.DataStream ?? Stream.Null, entry.Name, level);
        }
    }

    /// <summary>
    /// Zip through its central directory, as Windows, 7-Zip and every mail client read it: a streaming read of
    /// the local headers can be shown other files than the central directory lists (a local header hidden after
    /// bytes the streaming reader stops at), which is how archives are built to slip past gateways. SharpCompress
    /// reads the directory lazily, so the count stops at the entry limit without a list of them all.
    /// </summary>
    private void ListZip(CountingStream input, Level level)
    {
        using var copy = SeekableCopy(input, level);
        using var stream = copy.OpenRead();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        using (var archive = SharpCompress.Archives.Zip.ZipArchive.OpenArchive(stream, Options))
        {
            foreach (var entry in archive.Entries)
            {
                if (_stopped)
                    return;
                var name = entry.Key ?? "(unnamed)";
                listed.Add(name);
                if (!Admit(level, name, entry.IsDirectory, entry.IsEncrypted))
                    continue;
                using var content = entry.OpenEntryStream();
                ListEntry(content, name, level);
            }
        }
        stream.Position = 0;
        ListLocalHeaders(stream, level, listed);
    }

    /// <summary>
    /// The entries the local headers show from the start of the zip, as 7-Zip and streaming unzippers read them,
    /// that the central directory did not list: a zip laid before another (the directory at the end is the second
    /// one's), or a local header naming another file than the directory does. Local headers that cannot be walked
    /// to their end (a stored entry with a data descriptor, whose size only the directory gives) leave the
    /// directory's listing as it is.
    /// </summary>
    private void ListLocalHeaders(Stream stream, Level level, HashSet<string> listed)
    {
        try
        {
            using var reader = SharpCompress.Readers.Zip.ZipReader.OpenReader(stream, Options);
            _readers.Add(reader);
            try
            {
                while (!_stopped && reader.MoveToNextEntry())
                {
                    var entry = reader.Entry;
                    var name = entry.Key ?? "(unnamed)";
                    if (!listed.Add(name) || !Admit(level, name, entry.IsDirectory, entry.IsEncrypted))
                        continue;
                    using var content = reader.OpenEntryStream();
                    ListEntry(content, name, level);
                }
            }
            finally
            {
                _readers.Remove(reader);
            }
        }
        catch (Exception e) when (!_stopped && e is not (LimitExceededException or OutOfMemoryException))
        {
            // See above: the central directory's listing stands.
        }
    }

    /// <summary>
    /// The archive's bytes where they can be sought, within the archive byte limit: in memory up to 256 KB, in a
    /// temporary file beyond (<see cref="MessageSpool"/>), so a large archive does not grow the process.
    /// </summary>
    private MessageSpool SeekableCopy(CountingStream input, Level level)
    {
        var copy = new MessageSpool();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            long total = 0;
            int n;
            while ((n = input.Read(buffer, 0, 81920)) > 0)
            {
                total += n;
                if (total > limits.MaxArchiveBytes)
                    Stop($"{level.Name}: larger than {limits.MaxArchiveBytes} bytes");
                copy.Write(buffer.AsSpan(0, n));
            }
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void List7z(CountingStream input, Level level)
    {
        // 7z keeps its entry list at the end: it needs seeking, so its bytes are held (within the byte limit).
        using var copy = SeekableCopy(input, level);
        using var stream = copy.OpenRead();
        // SharpCompress reads the whole header, with lists as long as it declares, before the first entry: the
        // header is walked first, without building anything (see SevenZipHeaderCheck).
        if (SevenZipHeaderCheck.Check(stream, limits.MaxArchiveEntries) is { } beyond)
            Stop($"{level.Name}: {beyond}");
        stream.Position = 0;
        using var archive = SevenZipArchive.OpenArchive(stream, Options);
        var count = 0;
        foreach (var entry in archive.Entries)
        {
            if (++count > limits.MaxArchiveEntries)
                Stop($"{level.Name}: more than {limits.MaxArchiveEntries} entries");
        }
        using var reader = archive.ExtractAllEntries();
        ListEntries(reader, level);
    }

    /// <summary>
    /// One file of an archive: sniffed from its first bytes, read to its end so that what comes out is
    /// counted, and opened in turn when it is an archive itself.
    /// </summary>
    private void ListEntry(Stream raw, string name, Level level)
    {
        var content = new CountingStream(raw, (_, n) => Produced(level, name, n));
        var head = System.Buffers.ArrayPool<byte>.Shared.Rent(FileTypes.SniffLength);
        try
        {
            ListEntry(content, head, name, level);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(head);
        }
    }

    private void ListEntry(CountingStream content, byte[] head, string name, Level level)
    {
        var length = content.ReadAtLeast(head.AsSpan(0, FileTypes.SniffLength), FileTypes.SniffLength, throwOnEndOfStream: false);
        var sniffed = FileTypes.Sniff(head.AsSpan(0, length));
        var macros = false;
        var encrypted = false;
        if (FileTypes.IsDisguisedArchive(Path.GetFileName(name), sniffed))
            Stop($"{name} in {level.Name}: named as an archive but does not start as one");
        if (FileTypes.IsArchive(sniffed))
        {
            // A tar inside a compressed stream is the same archive (.tar.gz), not a nested one: its files are
            // listed as in the .tar.gz, and the .tar between is not listed.
            var tarball = level.IsCompressedStream && sniffed == "tar";
            var nesting = tarball ? level.Nesting : level.Nesting + 1;
            if (nesting > limits.MaxArchiveNesting)
                Stop($"{level.Name}: archives nested deeper than {limits.MaxArchiveNesting}");
            var inner = Inspect(new PrefixedStream(head, length, content), sniffed, tarball ? level.Name : $"{name} in {level.Name}", nesting);
            macros = inner.Macros;
            encrypted = inner.Encrypted;
            if (tarball)
            {
                level.Macros |= macros;
                level.Encrypted |= encrypted;
                if (!_stopped)
                    content.CopyTo(Stream.Null);
                return;
            }
        }
        if (_stopped)
            return;
        attachments.Add(Attachment.Create(name, "", sniffed, level.Name, macros) with { Encrypted = encrypted });
        // An HTML or SVG file in an archive opens in the browser as an attachment does: handed on for the HTML checks.
        if (html is not null && MessageView.MarkupKind(name, head.AsSpan(0, length)) is { } svg)
            html($"{name} in {level.Name}", svg, new PrefixedStream(head, length, content));
        content.CopyTo(Stream.Null);
    }

    private void Produced(Level level, string entry, int n)
    {
        if (time.GetElapsedTime(_started) > limits.MaxArchiveTime)
            Stop($"{level.Name}: archives take longer than {limits.MaxArchiveTime.TotalSeconds:0.#} s to list");
        _produced += n;
        level.Produced += n;
        if (_produced > limits.MaxArchiveBytes)
            Stop($"{level.Name}: archives expand past {limits.MaxArchiveBytes} bytes");
        if (level.Produced > RatioGrace && level.Produced > limits.MaxArchiveRatio * Math.Max(1, level.Input.Count))
            Stop($"{level.Name}: {entry} expands more than {limits.MaxArchiveRatio} times (limit {limits.MaxArchiveRatio})");
    }

    /// <summary>Reports the violation and unwinds every archive being read.</summary>
    private void Stop(string violation)
    {
        Report(violation);
        throw new LimitExceededException(violation);
    }

    private void Report(string violation)
    {
        if (!_stopped)
            violate(violation);
        _stopped = true;
        // SharpCompress skips to the end of an entry when its stream is disposed (decompressing it, for a
        // compressed entry of unknown size or a solid archive) unless its reader was cancelled.
        foreach (var reader in _readers)
            reader.Cancel();
    }

    private static string DefaultMemberName(string archiveName)
    {
        var file = archiveName.Split(" in ", 2)[0];
        foreach (var (suffix, replacement) in new[] { (".tgz", ".tar"), (".tbz2", ".tar"), (".tbz", ".tar"), (".txz", ".tar"), (".gz", ""), (".bz2", ""), (".xz", "") })
        {
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && file.Length > suffix.Length)
                return file[..^suffix.Length] + replacement;
        }
        return file;
    }

    private sealed class LimitExceededException(string message) : Exception(message);
}
