using System.IO.Compression;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>The shipped attachment rules over SMTP, on archives of every format (fixtures of scripts/make-archive-fixtures).</summary>
public class ArchiveTests
{
    private static readonly string Rules = Path.Combine(RepoRoot.Find(), "rules", "attachments.yaml").Replace('\\', '/');

    private static async Task<string> SendAsync(GatewayHost gateway, byte[] message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            return await c.CommandAsync(System.Text.Encoding.ASCII.GetString(message).TrimEnd('\r', '\n') + "\r\n.");
        }
    }

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(RepoRoot.Find(), "rules", "tests", "messages", name));

    [Theory]
    [InlineData("archive-payload-tar-gz.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-payload-tar-bz2.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-payload-tar-xz.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-payload-7z.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-payload-rar.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-nested-tar-gz.eml", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("archive-encrypted-headers-7z.eml", "554 5.7.1 Encrypted archives cannot be inspected and are not accepted")]
    [InlineData("archive-clean-tar-gz.eml", "250 ")]
    public async Task The_shipped_rules_see_inside_every_archive_format(string fixture, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{Rules}\"]\n", upstream);
        var reply = await SendAsync(gateway, Fixture(fixture));
        Assert.StartsWith(expected, reply);
        Assert.Equal(expected == "250 " ? 1 : 0, upstream.Messages.Count);
    }

    /// <summary>
    /// A .tar.gz padded with zero bytes after its gzip trailer (as tape and block-padded tools write it) is read as
    /// gzip(1) reads it: the executable inside is found, a clean one goes through; junk after the zeros is refused.
    /// </summary>
    [Theory]
    [InlineData("payload.tar.gz", 10240, "", "554 5.7.1 Executable attachments are not accepted")]
    [InlineData("clean.tar.gz", 10240, "", "250 ")]
    [InlineData("clean.tar.gz", 10240, "junk", "554 5.7.0 Message refused: it cannot be inspected within the limits (clean.tar.gz: not a readable gzip archive")]
    public async Task A_tar_gz_padded_with_zero_bytes_is_inspected(string archive, int padding, string junk, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{Rules}\"]\n", upstream);
        var bytes = File.ReadAllBytes(Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "archives", archive));
        byte[] padded = [.. bytes, .. new byte[padding], .. System.Text.Encoding.ASCII.GetBytes(junk)];
        var reply = await SendAsync(gateway, WithAttachment(archive, padded, "application/gzip"));
        Assert.StartsWith(expected, reply);
        Assert.Equal(expected == "250 " ? 1 : 0, upstream.Messages.Count);
    }

    private static byte[] WithAttachment(string name, byte[] content, string type)
    {
        var builder = new MimeKit.BodyBuilder { TextBody = "see attached" };
        builder.Attachments.Add(name, content, MimeKit.ContentType.Parse(type));
        var message = Mail.Message();
        message.Body = builder.ToMessageBody();
        using var raw = new MemoryStream();
        message.WriteTo(new MimeKit.FormatOptions { NewLineFormat = MimeKit.NewLineFormat.Dos }, raw);
        return raw.ToArray();
    }

    [Fact]
    public async Task A_gzip_bomb_is_refused_as_uninspectable_and_logged_with_MIME_LIMIT()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{Rules}\"]\n", upstream);
        using var bomb = new MemoryStream();
        using (var gz = new GZipStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true))
            gz.Write(new byte[50_000_000]);
        var reply = await SendAsync(gateway, WithAttachment("zeros.gz", bomb.ToArray(), "application/gzip"));
        Assert.StartsWith("554 5.7.0 Message refused: it cannot be inspected within the limits (zeros.gz: zeros expands more than 100 times", reply);
        Assert.Empty(upstream.Messages);
        Assert.Contains("MIME_LIMIT", await gateway.Logs.WaitForAsync(l => l.Contains("transaction ", StringComparison.Ordinal)));
    }
}
