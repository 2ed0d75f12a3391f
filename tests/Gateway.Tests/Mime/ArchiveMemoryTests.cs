using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.IO.Hashing;
using Gateway.Mime;
using Gateway.Tests.Support;

namespace Gateway.Tests.Mime;

/// <summary>
/// Archives of 100,000 tiny entries, and 7z headers built to make a reader allocate: refused as uninspectable at
/// the entry limit, with what the listing allocates staying within a few MB (an allocation count on this thread,
/// not a timing). The 7z is written by Debian's 7z (p7zip-full, installed by scripts/test), the rar by hand in
/// RAR 4's "store" format as scripts/make-archive-fixtures does.
/// </summary>
public class ArchiveMemoryTests
{
    private const int Entries = 100_000;

    /// <summary>What listing an archive may allocate when it is refused at the entry limit.</summary>
    private const long FewMegabytes = 4 * 1024 * 1024;

    /// <summary>
    /// What a bzip2 decoder needs whatever the entries: its blocks are up to 900 KB, sorted through arrays of
    /// ints (bzip2's manual: 3.7 MB to decompress); SharpCompress's took 6.2 MB here.
    /// </summary>
    private const long Bzip2Decoder = 4 * 1024 * 1024;

    private static readonly Lazy<byte[]> SevenZip = new(() => Build7z(Entries));

    private static (List<string> Violations, List<Attachment> Attachments, long Allocated) Inspect(byte[] archive, string kind, string name, MimeLimits? limits = null)
    {
        var violations = new List<string>();
        var attachments = new List<Attachment>();
        var inspector = new ArchiveInspector(limits ?? MimeLimits.Default, attachments, violations.Add, TimeProvider.System);
        var before = GC.GetAllocatedBytesForCurrentThread();
        inspector.Inspect(new MemoryStream(archive, writable: false), kind, name, 1);
        return (violations, attachments, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    public static TheoryData<string> Formats => ["7z", "zip", "tar", "tar.gz", "tar.bz2", "rar"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void An_archive_of_100000_entries_is_refused_at_the_limit_within_a_few_MB(string format)
    {
        var (archive, kind) = format switch
        {
            "7z" => (SevenZip.Value, "7z"),
            "zip" => (Zip(Entries), "zip"),
            "tar" => (Tar(Entries), "tar"),
            "tar.gz" => (Gzip(Tar(Entries)), "gzip"),
            "tar.bz2" => (Bzip2(Tar(Entries)), "bzip2"),
            _ => (Rar(Entries), "rar"),
        };
        var (violations, attachments, allocated) = Inspect(archive, kind, "many." + format);
        var violation = Assert.Single(violations);
        Assert.True(violation.StartsWith($"many.{format}: ", StringComparison.Ordinal) && violation.Contains("1000 entries"), violation);
        Assert.True(attachments.Count <= 1001, $"{attachments.Count} attachments");
        Assert.True(allocated < FewMegabytes + (kind == "bzip2" ? Bzip2Decoder : 0), $"{format}: {allocated:N0} bytes allocated");
    }

    /// <summary>The header check does not refuse what the limit allows: raised past the count, every entry is listed.</summary>
    [Fact]
    public void A_7z_within_the_limit_is_listed_whole()
    {
        var (violations, attachments, _) = Inspect(SevenZip.Value, "7z", "many.7z", MimeLimits.Default with { MaxArchiveEntries = Entries + 200 });
        Assert.Empty(violations);
        Assert.Equal(Entries, attachments.Count);
    }

    /// <summary>A 7z's header as written by hand: its signature header (with CRCs a reader accepts), then <paramref name="header"/>.</summary>
    private static byte[] SevenZipWith(byte[] header, byte[]? packed = null)
    {
        packed ??= [];
        var start = new byte[20];
        BinaryPrimitives.WriteUInt64LittleEndian(start, (ulong)packed.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(start.AsSpan(8), (ulong)header.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(start.AsSpan(16), Crc32.HashToUInt32(header));
        byte[] signature = [(byte)'7', (byte)'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4, .. BitConverter.GetBytes(Crc32.HashToUInt32(start)), .. start];
        return [.. signature, .. packed, .. header];
    }

    public static TheoryData<string, byte[], string> HostileHeaders => new()
    {
        // Header, FilesInfo: 2^31 - 1 files (a number of 0xF0 and four bytes), End, End.
        { "files", SevenZipWith([0x01, 0x05, 0xF0, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00]), "more than 1000 entries" },
        // Header, MainStreamsInfo, PackInfo of 2^31 - 1 pack streams.
        { "pack streams", SevenZipWith([0x01, 0x04, 0x06, 0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0x7F, 0x09, 0x00]), "more than 1000 entries" },
        // Header, MainStreamsInfo, UnpackInfo of one LZMA folder with a 1.5 GB dictionary.
        { "dictionary", SevenZipWith([0x01, 0x04, 0x07, 0x0B, 0x01, 0x00, 0x01, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5D, 0x00, 0x00, 0x00, 0x60, 0x0C, 0x01, 0x00, 0x00, 0x00]),
            "a 7z coder needing 1536 MB to decode (more than 64 MB)" },
        // EncodedHeader: one packed byte that claims to decode to 2 GB of header.
        { "encoded", SevenZipWith([0x17, 0x06, 0x00, 0x01, 0x09, 0x01, 0x00, 0x07, 0x0B, 0x01, 0x00, 0x01, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5D, 0x00, 0x00, 0x10, 0x00,
            0x0C, 0xF0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00], [0x00]), "a 7z header of 2147483648 bytes, more than 1000 entries can need" },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void A_7z_header_that_would_make_the_reader_allocate_is_refused_before_it_is_read(string what, byte[] archive, string expected)
    {
        var (violations, _, allocated) = Inspect(archive, "7z", "evil.7z");
        Assert.Equal([$"evil.7z: {expected}"], violations);
        Assert.True(allocated < FewMegabytes, $"{what}: {allocated:N0} bytes allocated");
    }

    [Fact]
    public void A_7z_header_past_the_archive_end_is_not_readable()
    {
        var archive = SevenZipWith([0x01, 0x00]);
        BinaryPrimitives.WriteUInt64LittleEndian(archive.AsSpan(12), ulong.MaxValue - 1);
        var (violations, _, _) = Inspect(archive, "7z", "evil.7z");
        Assert.StartsWith("evil.7z: not a readable 7z archive", Assert.Single(violations));
    }

    private static byte[] Build7z(int count)
    {
        var dir = Directory.CreateTempSubdirectory("many7z-");
        try
        {
            var content = "x"u8.ToArray();
            for (var d = 0; d * 1000 < count; d++)
            {
                var sub = Directory.CreateDirectory(Path.Combine(dir.FullName, "d", $"d{d}")).FullName;
                for (var i = d * 1000; i < Math.Min(count, (d + 1) * 1000); i++)
                    File.WriteAllBytes(Path.Combine(sub, $"f{i}.txt"), content);
            }
            // 7z is Debian's p7zip-full, which scripts/test installs.
            Programs.Run("7z", ["a", "-bd", "-bso0", "-t7z", "many.7z", "d/*"], TimeSpan.FromMinutes(5), dir.FullName);
            return File.ReadAllBytes(Path.Combine(dir.FullName, "many.7z"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static byte[] Zip(int count)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (var i = 0; i < count; i++)
            {
                using var s = zip.CreateEntry($"d{i / 1000}/f{i}.txt", CompressionLevel.NoCompression).Open();
                s.WriteByte((byte)'x');
            }
        }
        return ms.ToArray();
    }

    private static byte[] Tar(int count)
    {
        using var ms = new MemoryStream();
        using (var writer = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            for (var i = 0; i < count; i++)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"d{i / 1000}/f{i}.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Bzip2(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var bz = SharpCompress.Compressors.BZip2.BZip2Stream.Create(ms, SharpCompress.Compressors.CompressionMode.Compress, decompressConcatenated: false, leaveOpen: true))
            bz.Write(data);
        return ms.ToArray();
    }

    /// <summary>RAR 4, stored: marker, archive header, a file header and its data per file, end of archive (RARLAB's technote.txt).</summary>
    private static byte[] Rar(int count)
    {
        using var ms = new MemoryStream();
        void Block(byte type, ushort flags, ReadOnlySpan<byte> body)
        {
            var rest = new byte[5 + body.Length];
            rest[0] = type;
            BinaryPrimitives.WriteUInt16LittleEndian(rest.AsSpan(1), flags);
            BinaryPrimitives.WriteUInt16LittleEndian(rest.AsSpan(3), (ushort)(7 + body.Length));
            body.CopyTo(rest.AsSpan(5));
            Span<byte> crc = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(crc, (ushort)Crc32.HashToUInt32(rest));
            ms.Write(crc);
            ms.Write(rest);
        }
        ms.Write("Rar!\u001a\u0007\0"u8);
        Block(0x73, 0, new byte[6]);
        var data = "x"u8.ToArray();
        for (var i = 0; i < count; i++)
        {
            var name = System.Text.Encoding.ASCII.GetBytes($"d{i / 1000}/f{i}.txt");
            var body = new byte[25 + name.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)data.Length);
            body[8] = 3;
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(9), Crc32.HashToUInt32(data));
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(13), 0x5A210000);
            body[17] = 29;
            body[18] = 0x30;
            BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(19), (ushort)name.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(21), 0x81A40000);
            name.CopyTo(body.AsSpan(25));
            Block(0x74, 0x8000, body);
            ms.Write(data);
        }
        Block(0x7B, 0x4000, []);
        return ms.ToArray();
    }
}
