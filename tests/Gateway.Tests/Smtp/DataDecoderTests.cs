using System.Text;
using Gateway.Configuration;

namespace Gateway.Tests.Smtp;

public class DataDecoderTests
{
    private static (DataDecoder Decoder, string Content, int Used) Decode(string input, BareLineEndings mode = BareLineEndings.Reject, long max = 1_000_000)
    {
        var decoder = new DataDecoder(mode, max);
        using var spool = new MessageSpool();
        var used = decoder.Feed(Encoding.Latin1.GetBytes(input), spool);
        using var read = spool.OpenRead();
        using var ms = new MemoryStream();
        read.CopyTo(ms);
        return (decoder, Encoding.Latin1.GetString(ms.ToArray()), used);
    }

    [Fact]
    public void Ends_at_crlf_dot_crlf_and_leaves_the_rest_unread()
    {
        var (d, content, used) = Decode("Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b.c>\r\n");
        Assert.True(d.Completed);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", content);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n.\r\n".Length, used);
    }

    [Fact]
    public void An_empty_message_ends_at_once()
    {
        var (d, content, used) = Decode(".\r\nQUIT\r\n");
        Assert.True(d.Completed);
        Assert.Equal("", content);
        Assert.Equal(3, used);
    }

    [Fact]
    public void Removes_one_dot_from_every_stuffed_line_including_the_first()
    {
        var (d, content, _) = Decode("..first\r\nmiddle\r\n..\r\n...three\r\n.\r\n");
        Assert.True(d.Completed);
        Assert.Equal(".first\r\nmiddle\r\n.\r\n..three\r\n", content);
    }

    [Theory]
    [InlineData("a\n.\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r.\rMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r\n.\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\n.\r\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r\n\0.\r\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r\n.\0\r\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r.\r\nMAIL FROM:<x@y.z>\r\n")]
    [InlineData("a\r\n.\r\r\nMAIL FROM:<x@y.z>\r\n")]
    public void No_smuggling_variant_ends_the_data(string input)
    {
        foreach (var mode in new[] { BareLineEndings.Reject, BareLineEndings.Normalize })
        {
            var (d, content, used) = Decode(input, mode);
            Assert.False(d.Completed);
            Assert.True(d.SawBareLineEnding);
            Assert.Equal(input.Length, used);
            if (mode == BareLineEndings.Normalize)
            {
                Assert.DoesNotContain('\0', content);
                AssertOnlyCrlf(content);
            }
        }
    }

    [Fact]
    public void Normalize_turns_bare_line_endings_into_crlf_and_drops_nul()
    {
        var (d, content, _) = Decode("a\nb\rc\0d\r\n.\r\n", BareLineEndings.Normalize);
        Assert.True(d.Completed);
        Assert.True(d.SawBareLineEnding);
        Assert.Equal("a\r\nb\r\ncd\r\n", content);
    }

    [Fact]
    public void Stops_storing_past_the_limit_but_still_finds_the_end()
    {
        var body = new string('x', 100) + "\r\n";
        var (d, content, _) = Decode(body + body + ".\r\nNOOP\r\n", max: 150);
        Assert.True(d.Completed);
        Assert.True(d.Oversize);
        Assert.True(content.Length <= 150);
    }

    [Fact]
    public void Finds_the_end_across_chunk_boundaries()
    {
        var input = Encoding.ASCII.GetBytes("line one\r\n..two\r\n.\r\nRSET\r\n");
        for (var split = 1; split < input.Length - 6; split++)
        {
            var decoder = new DataDecoder(BareLineEndings.Reject, 1000);
            using var spool = new MessageSpool();
            var used = decoder.Feed(input.AsSpan(0, split), spool);
            Assert.Equal(split, used);
            used += decoder.Feed(input.AsSpan(split), spool);
            Assert.True(decoder.Completed, $"split at {split}");
            Assert.Equal(input.Length - "RSET\r\n".Length, used);
            Assert.Equal("line one\r\n.two\r\n".Length, spool.Length);
        }
    }

    private static void AssertOnlyCrlf(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\r')
                Assert.True(i + 1 < s.Length && s[i + 1] == '\n', $"bare CR at {i}");
            if (s[i] == '\n')
                Assert.True(i > 0 && s[i - 1] == '\r', $"bare LF at {i}");
        }
    }
}
