using System.Formats.Tar;
using System.IO.Compression;
using Gateway.Mime;
using Gateway.Tests.Support;
using MimeKit;

namespace Gateway.Tests.Mime;

/// <summary>
/// The archives of every format the gateway opens, from the fixtures of scripts/make-archive-fixtures (built
/// with 7z, tar, gzip, bzip2 and xz; the rar ones by hand) and from archives built here.
/// </summary>
public class ArchiveTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "archives", name));

    internal static MessageView View(MimeLimits? limits, params (string Name, byte[] Content)[] files)
    {
        var builder = new BodyBuilder { TextBody = "See attached." };
        foreach (var (name, content) in files)
            builder.Attachments.Add(name, content, ContentType.Parse("application/octet-stream"));
        var message = new MimeMessage { Subject = "files", Body = builder.ToMessageBody() };
        message.From.Add(MailboxAddress.Parse("a@sender.test"));
        var spool = new MessageSpool();
        using var ms = new MemoryStream();
        message.WriteTo(ms);
        spool.Write(ms.ToArray());
        return MessageView.Parse(spool, limits ?? MimeLimits.Default);
    }

    [Theory]
    [InlineData("payload.tar")]
    [InlineData("payload.tar.gz")]
    [InlineData("payload.tar.bz2")]
    [InlineData("payload.tar.xz")]
    [InlineData("payload.7z")]
    [InlineData("payload.rar")]
    public void Every_format_lists_its_entries_with_their_true_types(string fixture)
    {
        var view = View(null, (fixture, Fixture(fixture)));
        Assert.Empty(view.Violations);
        Assert.Contains(view.Attachments, a => a is { Name: "setup.exe", SniffedType: "exe" } && a.Archive!.StartsWith(fixture, StringComparison.Ordinal));
        Assert.Contains(view.Attachments, a => a is { Name: "figures.txt", SniffedType: "unknown" });
        Assert.Empty(view.EncryptedArchives);
    }

    [Fact]
    public void A_gzip_of_one_file_is_that_file()
    {
        var view = View(null, ("setup.exe.gz", Fixture("setup.exe.gz")));
        Assert.Contains(view.Attachments, a => a is { Extension: "exe", SniffedType: "exe", Archive: "setup.exe.gz" });
    }

    [Fact]
    public void A_renamed_executable_in_a_zip_in_a_tar_gz_is_found_by_its_bytes()
    {
        var view = View(null, ("nested.tar.gz", Fixture("nested.tar.gz")));
        Assert.Empty(view.Violations);
        Assert.Contains(view.Attachments, a => a is { Name: "photo.jpg", SniffedType: "exe", Archive: "inner.zip in nested.tar.gz" });
    }

    [Theory]
    [InlineData("encrypted.7z")]
    [InlineData("encrypted-headers.7z")]
    [InlineData("encrypted.zip")]
    [InlineData("encrypted.rar")]
    public void Encrypted_archives_are_marked_and_not_a_violation(string fixture)
    {
        var view = View(null, (fixture, Fixture(fixture)));
        Assert.Empty(view.Violations);
        Assert.NotEmpty(view.EncryptedArchives);
        Assert.Contains(view.Attachments, a => a.Encrypted);
    }

    [Fact]
    public void A_corrupt_archive_is_a_violation()
    {
        var archive = Fixture("payload.7z");
        archive.AsSpan(40).Fill(0x55);
        Assert.Contains(View(null, ("broken.7z", archive)).Violations, v => v.Contains("broken.7z: not a readable 7z archive"));
        byte[] zip = [.. "PK\u0003\u0004"u8, .. Enumerable.Repeat((byte)0xEE, 200)];
        Assert.Contains(View(null, ("broken.zip", zip)).Violations, v => v.StartsWith("broken.zip: not a readable zip archive", StringComparison.Ordinal));
        // The first violation goes into the SMTP reply: a sender's long name does not make it longer than a line.
        var longName = new string('n', 5000) + ".zip";
        var violations = View(null, (longName, zip)).Violations;
        Assert.NotEmpty(violations);
        Assert.All(violations, v => Assert.True(v.Length <= 300));
    }

    /// <summary>
    /// A compressed stream cut short, in the middle or in its trailer, or with a wrong trailer: gzip's decoders
    /// return the bytes they had, so the trailer (CRC-32 and length) is checked; bzip2's and xz's check their own.
    /// </summary>
    [Theory]
    [InlineData("payload.tar.gz")]
    [InlineData("setup.exe.gz")]
    [InlineData("payload.tar.bz2")]
    [InlineData("payload.tar.xz")]
    public void A_compressed_stream_cut_short_or_with_a_wrong_trailer_is_not_readable(string fixture)
    {
        var whole = Fixture(fixture);
        Assert.Empty(View(null, (fixture, whole)).Violations);
        var broken = new List<(string How, byte[] Bytes)>
        {
            ("cut in the middle", whole[..(whole.Length / 2)]),
            ("cut in the trailer", whole[..^4]),
            ("last byte missing", whole[..^1]),
        };
        // gzip: CRC-32, length; bzip2: the stream CRC (its last byte may be padding bits); xz: the stream footer.
        foreach (var at in new[] { 8, 4, 2 })
        {
            var flipped = (byte[])whole.Clone();
            flipped[^at] ^= 0x01;
            broken.Add(($"byte -{at} flipped", flipped));
        }
        foreach (var (how, bytes) in broken)
        {
            var violations = View(null, (fixture, bytes)).Violations;
            Assert.True(violations.Any(v => v.StartsWith($"{fixture}: not a readable", StringComparison.Ordinal)),
                $"{fixture} {how}: {string.Join(" | ", violations.DefaultIfEmpty("no violation"))}");
        }
    }

    [Fact]
    public void A_gzip_with_bytes_after_its_trailer_or_a_second_member_is_not_readable()
    {
        var whole = Fixture("setup.exe.gz");
        Assert.NotEmpty(View(null, ("setup.exe.gz", [.. whole, .. "junk"u8])).Violations);
        Assert.NotEmpty(View(null, ("setup.exe.gz", [.. whole, .. Gzip("hidden"u8.ToArray())])).Violations);
        Assert.Empty(View(null, ("empty.gz", Gzip([]))).Violations);
    }

    /// <summary>
    /// Zero bytes after the trailer are padding (tape and block-padded tools write it; gzip(1) says "decompression
    /// OK, trailing zero bytes ignored"): the member is read as without them. The trailer's own zero bytes (the
    /// high bytes of a short length, all 8 for an empty file) are not mistaken for padding, nor padding for them.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(4093)]
    [InlineData(10240)]
    [InlineData(100_000)]
    public void A_gzip_padded_with_zero_bytes_after_its_trailer_is_read(int padding)
    {
        var whole = Fixture("setup.exe.gz");
        var view = View(null, ("setup.exe.gz", [.. whole, .. new byte[padding]]));
        Assert.Empty(view.Violations);
        Assert.Contains(view.Attachments, a => a is { Extension: "exe", SniffedType: "exe", Archive: "setup.exe.gz" });
        var tarball = View(null, ("payload.tar.gz", [.. Fixture("payload.tar.gz"), .. new byte[padding]]));
        Assert.Empty(tarball.Violations);
        Assert.Contains(tarball.Attachments, a => a is { Name: "setup.exe", SniffedType: "exe" });
        Assert.Empty(View(null, ("empty.gz", [.. Gzip([]), .. new byte[padding]])).Violations);
    }

    [Fact]
    public void A_gzip_padded_with_zeros_then_anything_else_or_cut_short_and_padded_is_not_readable()
    {
        var whole = Fixture("setup.exe.gz");
        var broken = new List<(string How, byte[] Bytes)>
        {
            ("zeros then a byte", [.. whole, .. new byte[512], 0x01]),
            ("zeros then junk then zeros", [.. whole, .. new byte[512], .. "junk"u8, .. new byte[512]]),
            ("zeros then a second member", [.. whole, .. new byte[512], .. Gzip("hidden"u8.ToArray())]),
            ("a second member then zeros", [.. whole, .. Gzip("hidden"u8.ToArray()), .. new byte[512]]),
            ("cut in the CRC-32, then zeros", [.. whole[..^6], .. new byte[512]]),
            ("cut in the middle, then zeros", [.. whole[..(whole.Length / 2)], .. new byte[512]]),
            ("header only, then zeros", [.. whole[..10], .. new byte[512]]),
        };
        var flipped = (byte[])whole.Clone();
        flipped[^8] ^= 0x01;
        broken.Add(("CRC-32 flipped, then zeros", [.. flipped, .. new byte[512]]));
        foreach (var (how, bytes) in broken)
        {
            var violations = View(null, ("setup.exe.gz", bytes)).Violations;
            Assert.True(violations.Any(v => v.StartsWith("setup.exe.gz: not a readable gzip", StringComparison.Ordinal)),
                $"{how}: {string.Join(" | ", violations.DefaultIfEmpty("no violation"))}");
        }
    }

    /// <summary>
    /// gzip(1) and 7-Zip extract every member of a gzip stream: a second member (an executable) after a harmless
    /// first one, followed by a copy of the first one's trailer so that the stream seems to end with it, is not
    /// passed as the harmless file. Every member is decoded, and the trailer checked against all of them.
    /// </summary>
    [Fact]
    public void A_second_gzip_member_behind_a_copy_of_the_first_trailer_is_not_hidden()
    {
        var first = Gzip("hello"u8.ToArray());
        var hidden = Gzip(TestFiles.WindowsExecutable());
        var view = View(null, ("readme.txt.gz", [.. first, .. hidden, .. first[^8..]]));
        Assert.Contains(view.Violations, v => v.StartsWith("readme.txt.gz: not a readable gzip", StringComparison.Ordinal));
        Assert.DoesNotContain(view.Attachments, a => a is { Name: "readme.txt", SniffedType: "unknown" });
    }

    /// <summary>The member is named by the gzip header (FNAME), as 7-Zip and gzip -N name what they extract.</summary>
    [Fact]
    public void A_gzip_member_is_named_by_its_header_and_a_header_too_long_to_read_is_not_readable()
    {
        var script = "WScript.Echo('hi');"u8.ToArray();
        var named = View(null, ("report.txt.gz", GzipWithHeader(script, extra: 100, name: "invoice.js")));
        Assert.Empty(named.Violations);
        Assert.Contains(named.Attachments, a => a is { Name: "invoice.js", Extension: "js", Archive: "report.txt.gz" });
        Assert.Contains(View(null, ("report.txt.gz", GzipWithHeader(script, extra: 0, name: null))).Attachments, a => a is { Name: "report.txt", Archive: "report.txt.gz" });
        // An extra field that pushes the name past what is read: refused rather than named after the attachment.
        var pushed = View(null, ("report.txt.gz", GzipWithHeader(script, extra: 5000, name: "invoice.js")));
        Assert.Contains(pushed.Violations, v => v.StartsWith("report.txt.gz: not a readable gzip", StringComparison.Ordinal));
    }

    /// <summary>A gzip member written field by field (RFC 1952), with an extra field of <paramref name="extra"/> bytes and a name.</summary>
    private static byte[] GzipWithHeader(byte[] content, int extra, string? name)
    {
        using var ms = new MemoryStream();
        var flags = (byte)((extra > 0 ? 0x04 : 0) | (name is null ? 0 : 0x08));
        ms.Write([0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3]);
        if (extra > 0)
        {
            ms.Write([(byte)extra, (byte)(extra >> 8)]);
            ms.Write(new byte[extra]);
        }
        if (name is not null)
        {
            ms.Write(System.Text.Encoding.Latin1.GetBytes(name));
            ms.WriteByte(0);
        }
        using (var deflate = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            deflate.Write(content);
        Span<byte> trailer = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer, System.IO.Hashing.Crc32.HashToUInt32(content));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], (uint)content.Length);
        ms.Write(trailer);
        return ms.ToArray();
    }

    [Fact]
    public void A_tar_cut_inside_an_entry_is_not_readable()
    {
        var whole = Fixture("payload.tar");
        var cut = whole[..(3 * 512 + 60)];
        var violations = View(null, ("payload.tar", cut)).Violations;
        Assert.True(violations.Any(v => v.StartsWith("payload.tar: not a readable tar archive", StringComparison.Ordinal)), string.Join(" | ", violations.DefaultIfEmpty("no violation")));
    }

    /// <summary>A gzip bomb: declared sizes play no part, the bytes coming out are counted.</summary>
    [Fact]
    public void A_gzip_bomb_is_stopped_by_the_ratio_and_by_the_byte_limit()
    {
        var bomb = Gzip(new byte[20_000_000]);
        Assert.Contains(View(null, ("zeros.gz", bomb)).Violations, v => v.Contains("expands more than 100 times"));
        Assert.Contains(View(MimeLimits.Default with { MaxArchiveRatio = 100_000, MaxArchiveBytes = 5_000_000 }, ("zeros.gz", bomb)).Violations,
            v => v.Contains("expand past 5000000 bytes"));
    }

    [Fact]
    public void Too_many_entries_in_a_tar_stop_at_the_limit()
    {
        var view = View(MimeLimits.Default with { MaxArchiveEntries = 50 }, ("many.tar", Tar(200)));
        Assert.Contains(view.Violations, v => v == "many.tar: more than 50 entries");
        Assert.True(view.Attachments.Count <= 52);
    }

    [Fact]
    public void Nesting_is_limited_for_every_format_and_a_tar_gz_is_one_level()
    {
        // tar.gz (one level) > zip (two): within the default of 2.
        Assert.Empty(View(null, ("nested.tar.gz", Fixture("nested.tar.gz"))).Violations);
        // gz > tar.gz: the inner tar.gz is a second level, its zip a third.
        var outer = Tar(0, ("nested.tar.gz", Fixture("nested.tar.gz")));
        Assert.Contains(View(null, ("outer.tar", outer)).Violations, v => v.Contains("nested deeper than 2"));
    }

    /// <summary>
    /// A zip whose second local header follows bytes a streaming reader stops at: Windows and 7-Zip find the file
    /// through the central directory, and so must the gateway.
    /// </summary>
    [Fact]
    public void A_zip_is_read_through_its_central_directory_not_its_local_headers()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("readme.txt", "hello"u8.ToArray()), ("setup.exe", TestFiles.WindowsExecutable()) })
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(content);
            }
        }
        var bytes = ms.ToArray();
        var eocd = bytes.AsSpan().LastIndexOf("PK\u0005\u0006"u8);
        var directory = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(eocd + 16));
        var second = directory + 46 + System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(directory + 28))
            + System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(directory + 30)) + System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(directory + 32));
        var secondLocal = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(second + 42));
        byte[] junk = [.. Enumerable.Repeat((byte)0x20, 64)];
        var hidden = bytes[..secondLocal].Concat(junk).Concat(bytes[secondLocal..]).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(hidden.AsSpan(second + junk.Length + 42), (uint)(secondLocal + junk.Length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(hidden.AsSpan(eocd + junk.Length + 16), (uint)(directory + junk.Length));
        // What .NET's own reader (central directory) sees, as Windows would:
        using (var check = new ZipArchive(new MemoryStream(hidden)))
            Assert.Equal(["readme.txt", "setup.exe"], check.Entries.Select(e => e.FullName));

        var view = View(null, ("hidden.zip", hidden));
        Assert.Contains(view.Attachments, a => a is { Name: "setup.exe", SniffedType: "exe", Archive: "hidden.zip" });
    }

    /// <summary>A clock that moves one second each time it is read: listing runs out of time after a few reads.</summary>
    private sealed class SteppingTime : TimeProvider
    {
        private long _now;

        public override long GetTimestamp() => _now += TimestampFrequency;
    }

    [Fact]
    public void Listing_that_runs_out_of_time_is_a_violation_not_a_late_answer()
    {
        var random = new Random(3);
        var text = new byte[2_000_000];
        random.NextBytes(text);
        var builder = new MimeKit.BodyBuilder { TextBody = "See attached." };
        builder.Attachments.Add("data.bin.gz", Gzip(text), ContentType.Parse("application/gzip"));
        var message = new MimeMessage { Subject = "slow", Body = builder.ToMessageBody() };
        var spool = new MessageSpool();
        using var ms = new MemoryStream();
        message.WriteTo(ms);
        spool.Write(ms.ToArray());
        Assert.Empty(MessageView.Parse(spool, MimeLimits.Default).Violations);
        var view = MessageView.Parse(spool, MimeLimits.Default, new SteppingTime());
        Assert.Contains("data.bin.gz: archives take longer than 5 s to list", view.Violations);
    }

    private static byte[] Gzip(byte[] content)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
            gz.Write(content);
        return ms.ToArray();
    }

    internal static byte[] Tar(int count, params (string Name, byte[] Content)[] files)
    {
        using var ms = new MemoryStream();
        using (var writer = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            for (var i = 0; i < count; i++)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"f{i}.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
            foreach (var (name, content) in files)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        }
        return ms.ToArray();
    }
}
