using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Messages built so that a mail client shows an attachment the gateway's rules did not see: MIME headers given
/// twice, names that disagree, a forwarded message encoded as base64, files uuencoded in a text body. Each is
/// refused, by the shipped attachment rules or as uninspectable; the clean variants still go through.
/// </summary>
public class ContentSmugglingTests
{
    private static readonly string Rules = Path.Combine(RepoRoot.Find(), "rules", "attachments.yaml").Replace('\\', '/');

    private const string Head = "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nSubject: t\r\nMIME-Version: 1.0\r\n";

    /// <summary>A Windows executable's first bytes (MZ, and PE at the offset the DOS header names), base64.</summary>
    private static readonly string Exe = Convert.ToBase64String([.. "MZ"u8, .. new byte[0x3A], 0x80, 0, 0, 0, .. new byte[0x40], .. "PE\0\0"u8, .. new byte[200]], Base64FormattingOptions.InsertLineBreaks);

    private static string Mixed(string part) =>
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n" + part + "\r\n--b--\r\n";

    public static TheoryData<string, string, string> Cases() => new()
    {
        // Given twice, the first Content-Type is MimeKit's; a client that takes the last one shows a.js.
        { "two Content-Type, text first", Head + "Content-Type: text/plain\r\n" + Mixed("Content-Type: application/javascript; name=\"a.js\"\r\n\r\nalert(1)"), "554 5.7.0" },
        { "two Content-Transfer-Encoding, 7bit first", Head + Mixed("Content-Type: application/octet-stream; name=\"a.dat\"\r\nContent-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Exe), "554 5.7.0" },
        { "two Content-Disposition", Head + Mixed("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.js\"\r\n\r\nalert(1)"), "554 5.7.0" },
        { "the same Content-Type twice", Head + "Content-Type: text/plain\r\nContent-Type: text/plain\r\n\r\nhello", "250 " },
        // Content-Disposition's filename is MimeKit's FileName; a client that takes Content-Type's name shows a.js.
        { "name and filename disagree", Head + Mixed("Content-Type: application/octet-stream; name=\"a.js\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\nalert(1)"), "554 5.7.1 Executable" },
        { "a NUL in the name", Head + Mixed("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''a.js%00.txt\r\n\r\nalert(1)"), "554 5.7.1 Executable" },
        { "name and filename agree", Head + Mixed("Content-Type: application/octet-stream; name=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n\r\nhello"), "250 " },
        // A forwarded message in base64: MimeKit leaves it a leaf; Thunderbird and Gmail decode it and show its attachments.
        { "message/rfc822 in base64", Head + Mixed("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String(Encoding.ASCII.GetBytes(Head + Mixed("Content-Type: application/javascript; name=\"a.js\"\r\n\r\nalert(1)")), Base64FormattingOptions.InsertLineBreaks)), "554 5.7.1 Executable" },
        // Thunderbird shows a uuencoded (or yEnc) block in a text body as an attachment.
        { "uuencoded in the body", Head + "Content-Type: text/plain\r\n\r\nsee attached\r\nbegin 644 a.js\r\n(86QE<G0H,2D*\r\n`\r\nend\r\n", "554 5.7.1 Executable" },
        { "yEnc in the body", Head + "Content-Type: text/plain\r\n\r\nsee attached\r\n=ybegin line=128 size=4 name=a.js\r\nabcd\r\n=yend size=4\r\n", "554 5.7.1 Executable" },
        // Outlook and Gmail show the files inside a winmail.dat (TNEF) as the message's attachments.
        { "an executable in winmail.dat", Head + Mixed("Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(Tnef("a.js", "alert(1)"u8.ToArray()), Base64FormattingOptions.InsertLineBreaks)), "554 5.7.1 Executable" },
        { "a document in winmail.dat", Head + Mixed("Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(Tnef("a.txt", "hello"u8.ToArray()), Base64FormattingOptions.InsertLineBreaks)), "250 " },
        // 7-Zip and streaming unzippers show the first of two zips laid end to end; Windows the second.
        { "a zip laid before another", Head + Mixed("Content-Type: application/zip; name=\"x.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String([.. Zip(("a.js", "alert(1)")), .. Zip(("b.txt", "hello"))], Base64FormattingOptions.InsertLineBreaks)), "554 5.7.1 Executable" },
        // 7-Zip and WinRAR find an archive after bytes put before it (as in a self-extracting one).
        { "a zip after other bytes", Head + Mixed("Content-Type: application/zip; name=\"x.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String([.. Encoding.ASCII.GetBytes(new string('x', 5000)), .. Zip(("a.js", "alert(1)"))], Base64FormattingOptions.InsertLineBreaks)), "554 5.7.0" },
        { "a zip after other bytes, in a zip", Head + Mixed("Content-Type: application/zip; name=\"x.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String(Zip(("inner.zip", new string('x', 5000) + Encoding.Latin1.GetString(Zip(("a.js", "alert(1)"))))), Base64FormattingOptions.InsertLineBreaks)), "554 5.7.0" },
        { "a zip in a zip, stored", Head + Mixed("Content-Type: application/zip; name=\"x.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Convert.ToBase64String(Zip(("inner.zip", Encoding.Latin1.GetString(Zip(("b.txt", "hello")))), ("c.txt", "hi")), Base64FormattingOptions.InsertLineBreaks)), "250 " },
        { "a text that says begin", Head + "Content-Type: text/plain\r\n\r\nbegin 644 lines of text\r\nend\r\n", "250 " },
    };

    private static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var zip = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(zip, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var entry = archive.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).Open();
                entry.Write(Encoding.Latin1.GetBytes(content));
            }
        }
        return zip.ToArray();
    }

    /// <summary>A TNEF stream (MS-OXTNEF) with one attached file: the attributes Outlook writes for it.</summary>
    private static byte[] Tnef(string name, byte[] data)
    {
        using var tnef = new MemoryStream();
        using var w = new BinaryWriter(tnef);
        w.Write(0x223E9F78u);
        w.Write((ushort)1);
        void Attribute(byte level, uint id, byte[] value)
        {
            w.Write(level);
            w.Write(id);
            w.Write((uint)value.Length);
            w.Write(value);
            w.Write((ushort)value.Sum(b => b));
        }
        Attribute(1, 0x00089006, BitConverter.GetBytes(0x00010000)); // attTnefVersion
        Attribute(1, 0x00069007, [.. BitConverter.GetBytes(1252), .. BitConverter.GetBytes(0)]); // attOemCodepage
        Attribute(2, 0x00069002, [1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]); // attAttachRendData: a file
        Attribute(2, 0x00018010, [.. Encoding.ASCII.GetBytes(name), 0]); // attAttachTitle
        Attribute(2, 0x0006800F, data); // attAttachData
        w.Flush();
        return tnef.ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task What_a_client_would_show_is_what_the_rules_see(string what, string message, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"rules:\n  files: [\"{Rules}\"]\n", upstream);
        var reply = await Mail.DataReplyAsync(gateway.Port, message);
        Assert.True(reply.StartsWith(expected, StringComparison.Ordinal), $"{what}: {reply}");
        Assert.Equal(expected == "250 " ? 1 : 0, upstream.Messages.Count);
    }
}
