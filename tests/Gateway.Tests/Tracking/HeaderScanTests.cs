using System.Text;
using Gateway.Tracking;

namespace Gateway.Tests.Tracking;

public class HeaderScanTests
{
    private static (string? MessageId, string? Subject) Scan(string message)
    {
        using var spool = new MessageSpool();
        spool.Write(Encoding.UTF8.GetBytes(message));
        return HeaderScan.Find(spool);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public void Subject_and_message_id_come_from_the_header_block_only(string eol)
    {
        var message = string.Join(eol, "From: a@example.test", "Subject: =?utf-8?q?caf=C3=A9?=", " folded", "") + eol
            + string.Join(eol, "Subject: body", "Message-ID: <body@example.test>", "") + new string('x', 70_000);
        Assert.Equal((null, "café folded"), Scan(message));
        Assert.Equal(("<id@example.test>", null), Scan("Message-ID: <id@example.test>" + eol + eol + "Subject: body" + eol));
        Assert.Equal((null, null), Scan(eol + "Subject: body" + eol));
    }

    [Fact]
    public void A_header_block_without_an_end_is_read_to_its_last_line()
    {
        Assert.Equal(("<id@example.test>", "last"), Scan("Message-ID: <id@example.test>\r\nSubject: last"));
    }
}
