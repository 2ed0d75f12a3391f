using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Detection.Antivirus;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection;

/// <summary>The clamd protocol against a real, private clamd: INSTREAM in chunks, over a Unix socket and TCP, and its failures.</summary>
[Collection(ClamdCollection.Name)]
public sealed class ClamdClientTests(ClamdFixture clamd)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private ClamdClient Unix(int chunkSize = ClamdClient.DefaultChunkSize) =>
        new(ClamdAddress.Unix(clamd.Server.SocketPath), Timeout, chunkSize);

    private static Task<ScanResult> ScanAsync(ClamdClient client, byte[] content) => client.ScanAsync(new MemoryStream(content), CancellationToken.None);

    [Fact]
    public async Task Eicar_is_found_over_the_unix_socket_and_over_tcp()
    {
        Assert.True(ClamdAddress.TryParse(clamd.Server.TcpAddress, "/", out var tcp));
        foreach (var client in new[] { Unix(), new ClamdClient(tcp, Timeout) })
            Assert.Equal(ScanResult.Found(ClamdServer.EicarName), await ScanAsync(client, ClamdServer.Eicar));
    }

    [Fact]
    public async Task A_signature_of_our_own_is_found_and_other_content_is_clean()
    {
        Assert.Equal(ScanResult.Found(ClamdServer.OwnSampleName), await ScanAsync(Unix(), ClamdServer.OwnSample));
        Assert.Equal(ScanResult.Clean, await ScanAsync(Unix(), Encoding.ASCII.GetBytes("Hello, nothing to see here.\n")));
        Assert.Equal(ScanResult.Clean, await ScanAsync(Unix(), []));
    }

    [Fact]
    public async Task Chunks_smaller_than_the_file_are_put_back_together_by_clamd()
    {
        // 7-byte chunks cut the 68-byte EICAR file in ten pieces: clamd must see one stream.
        Assert.Equal(ScanResult.Found(ClamdServer.EicarName), await ScanAsync(Unix(chunkSize: 7), ClamdServer.Eicar));
    }

    /// <summary>Which archives clamd opens by itself, with no signature but the file's MD5: zip, tar, gzip and tar.gz.</summary>
    [Theory]
    [InlineData("zip")]
    [InlineData("tar")]
    [InlineData("gz")]
    [InlineData("tar.gz")]
    [InlineData("zip in zip")]
    public async Task Clamd_unpacks_archives_by_itself(string format)
    {
        var archive = format switch
        {
            "zip" => Archives.Zip("eicar.com", ClamdServer.Eicar),
            "tar" => Archives.Tar("eicar.com", ClamdServer.Eicar),
            "gz" => Archives.Gzip(ClamdServer.Eicar),
            "tar.gz" => Archives.Gzip(Archives.Tar("eicar.com", ClamdServer.Eicar)),
            _ => Archives.Zip("inner.zip", Archives.Zip("eicar.com", ClamdServer.Eicar)),
        };
        Assert.Equal(ScanResult.Found(ClamdServer.EicarName), await ScanAsync(Unix(), archive));
    }

    /// <summary>
    /// A characterization of clamd: its quoted-printable decoder keeps the CRLF before the MIME boundary, so a file
    /// known by its MD5 only (.hdb) is missed in a QP part unless the encoding ends in a soft line break. Body
    /// signatures (.ndb, as EICAR has here) do not care; ClamAV's own databases have both kinds.
    /// </summary>
    [Theory]
    [InlineData("\r\n", "Clean")]
    [InlineData("=\r\n", "Found")]
    public async Task A_hash_signature_needs_the_exact_bytes_that_clamds_QP_decoder_gives(string end, string status)
    {
        var mail = "From: a@sender.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            + "Content-Type: application/octet-stream; name=sample.bin\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + Encoding.ASCII.GetString(ClamdServer.OwnSample).Replace("\n", "=0A", StringComparison.Ordinal) + end + "--b--\r\n";
        Assert.Equal(status, (await ScanAsync(Unix(), Encoding.ASCII.GetBytes(mail))).Status.ToString());
    }

    [Fact]
    public async Task A_stream_over_clamds_size_limit_is_a_failure_with_clamds_words()
    {
        var big = new byte[ClamdServer.StreamMaxLength + 256 * 1024];
        var result = await ScanAsync(Unix(), big);
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.Contains("size limit exceeded", result.Error);
    }

    [Fact]
    public async Task No_clamd_at_the_address_is_a_failure_not_an_exception()
    {
        using var dir = new TempDirectory();
        var client = new ClamdClient(ClamdAddress.Unix(Path.Combine(dir.Path, "none.sock")), Timeout);
        var result = await ScanAsync(client, ClamdServer.Eicar);
        Assert.Equal(ScanStatus.Failed, result.Status);
        Assert.StartsWith("clamd at unix:", result.Error);
        Assert.NotNull(await client.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_clamd_that_never_answers_is_a_failure_after_the_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var client = new ClamdClient(ClamdAddress.Tcp("127.0.0.1", port), TimeSpan.FromMilliseconds(300));
        var result = await ScanAsync(client, ClamdServer.Eicar);
        Assert.Equal(ScanResult.Failed($"clamd at 127.0.0.1:{port}: no answer within 300 ms"), result);
    }

    [Fact]
    public async Task Ping_answers_null_when_clamd_is_there()
    {
        Assert.Null(await Unix().PingAsync(CancellationToken.None));
        var (version, error) = await Unix().CommandAsync("VERSION", CancellationToken.None);
        Assert.Null(error);
        Assert.StartsWith("ClamAV ", version);
    }

    [Theory]
    [InlineData("stream: OK", "Clean", null)]
    [InlineData("stream: Win.Test.EICAR_HDB-1 FOUND", "Found", "Win.Test.EICAR_HDB-1")]
    [InlineData("stream: Evil\r\n250 ok FOUND", "Found", "Evil  250 ok")]
    [InlineData("INSTREAM size limit exceeded. ERROR", "Failed", "clamd answered: INSTREAM size limit exceeded.")]
    [InlineData("UNKNOWN COMMAND", "Failed", "clamd answered: UNKNOWN COMMAND")]
    public void Replies_are_read_strictly_and_cleaned(string reply, string status, string? text)
    {
        var result = ClamdClient.Parse(reply);
        Assert.Equal(status, result.Status.ToString());
        Assert.Equal(text, result.Status == ScanStatus.Failed ? result.Error : result.Signature);
    }

    [Theory]
    [InlineData("unix:/run/clamav/clamd.ctl", "unix:/run/clamav/clamd.ctl")]
    [InlineData("127.0.0.1:3310", "127.0.0.1:3310")]
    [InlineData("[::1]:3310", "[::1]:3310")]
    [InlineData("clamd.internal:3310", "clamd.internal:3310")]
    [InlineData("unix:", null)]
    [InlineData("127.0.0.1", null)]
    [InlineData("/run/clamav/clamd.ctl", null)]
    public void Addresses_are_a_unix_socket_or_host_and_port(string text, string? parsed)
    {
        Assert.Equal(parsed is not null, ClamdAddress.TryParse(text, "/", out var address));
        if (parsed is not null)
            Assert.Equal(parsed, address.ToString());
    }
}

/// <summary>Archives built in memory with the base library, for the scanners to open.</summary>
public static class Archives
{
    public static byte[] Zip(string name, byte[] content)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry(name).Open();
            entry.Write(content);
        }
        return output.ToArray();
    }

    public static byte[] Tar(string name, byte[] content)
    {
        var output = new MemoryStream();
        using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        return output.ToArray();
    }

    public static byte[] Gzip(byte[] content)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(content);
        return output.ToArray();
    }

    /// <summary>
    /// A 7z, bzip2 or xz archive (<paramref name="type"/> as 7z's -t switch names it) of one file, made by Debian's
    /// p7zip (scripts/test installs it): .NET and SharpCompress write none of these formats.
    /// </summary>
    public static byte[] With7z(string type, string name, byte[] content)
    {
        var directory = Directory.CreateTempSubdirectory("gateway-7z-");
        try
        {
            File.WriteAllBytes(Path.Combine(directory.FullName, name), content);
            Programs.Run("7z", ["a", "-bd", "-bso0", "-t" + type, "out", name], workingDirectory: directory.FullName);
            return File.ReadAllBytes(Directory.GetFiles(directory.FullName, "out*").Single());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>A RAR 4 archive of one stored (uncompressed) file, byte by byte: no free tool writes RAR.</summary>
    public static byte[] StoredRar(string name, byte[] content)
    {
        static byte[] Block(byte[] body) => [.. BitConverter.GetBytes((ushort)(System.IO.Hashing.Crc32.HashToUInt32(body) & 0xffff)), .. body];
        var nameBytes = Encoding.ASCII.GetBytes(name);
        var archive = Block([0x73, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
        var header = new MemoryStream();
        var writer = new BinaryWriter(header);
        writer.Write((byte)0x74);
        writer.Write((ushort)0x8000);
        writer.Write((ushort)(32 + nameBytes.Length));
        writer.Write((uint)content.Length);
        writer.Write((uint)content.Length);
        writer.Write((byte)0);
        writer.Write(System.IO.Hashing.Crc32.HashToUInt32(content));
        writer.Write(0x5A210000u);
        writer.Write((byte)20);
        writer.Write((byte)0x30);
        writer.Write((ushort)nameBytes.Length);
        writer.Write(0x20u);
        writer.Write(nameBytes);
        return [.. "Rar!\x1a\a\0"u8, .. archive, .. Block(header.ToArray()), .. content, 0xC4, 0x3D, 0x7B, 0x00, 0x40, 0x07, 0x00];
    }
}
