using System.Text;
using Gateway.Mime;

namespace Gateway.Tests.Mime;

public class HeaderBlockTests
{
    private static string? Check(string message, MimeLimits? limits = null) =>
        HeaderBlock.CheckLimits(new MemoryStream(Encoding.ASCII.GetBytes(message)), limits ?? MimeLimits.Default);

    [Fact]
    public void An_ordinary_header_block_is_within_the_limits()
    {
        Assert.Null(Check("From: a@b.test\r\nSubject: hi\r\n there\r\n\r\nbody\r\n"));
        Assert.Null(Check("From: a@b.test\nSubject: bare LF line ends\n\nbody\n"));
    }

    [Fact]
    public void Counts_fields_not_lines_and_stops_at_the_blank_line()
    {
        var limits = MimeLimits.Default with { MaxHeaders = 10 };
        var folded = "Subject: a" + string.Concat(Enumerable.Repeat("\r\n b", 50)) + "\r\n";
        Assert.Null(Check("From: x\r\n" + folded + "\r\n" + string.Concat(Enumerable.Repeat("Body-Line: looks like a header\r\n", 50)), limits));
        var many = string.Concat(Enumerable.Range(0, 11).Select(i => $"X-{i}: v\r\n"));
        Assert.Equal("more than 10 header fields", Check(many + "\r\nbody", limits));
    }

    [Fact]
    public void One_field_folded_past_the_size_limit_is_named()
    {
        var subject = new StringBuilder("Subject: s");
        while (subject.Length < 110 * 1024)
            subject.Append("\r\n ").Append('w', 70);
        Assert.Equal("a header field larger than 102400 bytes", Check("From: x\r\n" + subject + "\r\n\r\nbody"));
    }

    [Fact]
    public void The_whole_block_is_limited_too()
    {
        var limits = MimeLimits.Default with { MaxHeaderBlock = 4096 };
        var fields = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-{i}: {new string('v', 60)}\r\n"));
        Assert.Equal("a header block larger than 4096 bytes", Check(fields + "\r\n", limits));
    }

    [Fact]
    public void A_message_of_headers_without_a_body_is_read_to_its_end()
    {
        Assert.Null(Check("From: x\r\nSubject: no body"));
    }
}
