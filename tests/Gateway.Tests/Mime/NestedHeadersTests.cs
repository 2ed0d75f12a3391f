using System.Text;
using Gateway.Mime;

namespace Gateway.Tests.Mime;

public sealed class NestedHeadersTests
{
    private static readonly MimeLimits Limits = MimeLimits.Default with { MaxHeaderSize = 1000, MaxHeaderBlock = 5000 };

    private static string? Check(string message, bool skipTop = true) =>
        NestedHeaders.Check(new MemoryStream(Encoding.ASCII.GetBytes(message)), Limits, skipTop);

    private static string Folded(string name, int lines) => name + ": x" + string.Concat(Enumerable.Repeat("\r\n " + new string('f', 40), lines)) + "\r\n";

    private static string Multipart(string partHeaders, string body) =>
        "Subject: t\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + partHeaders + "\r\n" + body + "\r\n--b--\r\n";

    [Fact]
    public void Folded_fields_of_parts_are_bounded_one_by_one_and_all_together()
    {
        Assert.Null(Check(Multipart(Folded("X-A", 20), "body")));
        Assert.Contains("larger than 1000 bytes", Check(Multipart(Folded("X-A", 30), "body")));
        // Each under the field limit, together over the block limit.
        Assert.Contains("in all", Check(Multipart(string.Concat(Enumerable.Range(0, 8).Select(i => Folded($"X-{i}", 20))), "body")));
    }

    [Fact]
    public void The_top_header_block_is_left_to_the_top_check_unless_asked()
    {
        var message = Folded("Subject", 30) + "\r\nbody\r\n";
        Assert.Null(Check(message));
        Assert.NotNull(Check(message, skipTop: false));
    }

    [Fact]
    public void An_embedded_message_declared_on_a_folded_content_type_has_its_headers_checked_and_its_body_is_not()
    {
        var embedded = "From: a@b.test\r\n" + Folded("Subject", 30) + "\r\nhello\r\n";
        Assert.NotNull(Check(Multipart("Content-Type:\r\n message/rfc822\r\n", embedded)));
        Assert.Null(Check(Multipart("Content-Type: text/plain\r\n", embedded)));
        // Indented body text after a header-looking line, once a blank line has ended the headers.
        Assert.Null(Check(Multipart("Content-Type: text/plain\r\n", "Listing:\r\n" + string.Concat(Enumerable.Repeat("    code\r\n", 500)))));
    }

    [Fact]
    public void A_field_is_measured_the_same_when_its_lines_cross_the_reads()
    {
        var message = Multipart(Folded("X-A", 30), "body");
        var bytes = Encoding.ASCII.GetBytes(message);
        using var trickle = new OneByteStream(bytes);
        Assert.Contains("larger than 1000 bytes", NestedHeaders.Check(trickle, Limits, skipTop: true));
    }

    private sealed class OneByteStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }
}
