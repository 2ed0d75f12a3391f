using System.Text;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Forwarding;

/// <summary>The lean SMTP client's message transfer over loopback: the upstream gets exactly the bytes given.</summary>
public class UpstreamConnectionTests
{
    private static SmtpPath Path(string address)
    {
        Assert.Null(SmtpPath.TryParse($"<{address}>", allowNull: false, allowBarePostmaster: false, out var path, out _));
        return path;
    }

    private static async Task<byte[]> RelayAsync(FakeUpstream upstream, string header, byte[] message)
    {
        var config = new UpstreamConfig([new HostPort("127.0.0.1", upstream.Port)], null, UpstreamTls.None, false, TimeSpan.FromSeconds(20), 2, TimeSpan.FromSeconds(30));
        await using var relay = new SmtpUpstream(config, "gw.test", NullLogger.Instance);
        var result = await relay.DeliverAsync(new Envelope("T1", Path("alice@sender.test"), [Path("bob@example.test")], false, false), header, new MemoryStream(message), default);
        Assert.True(result.Delivered, result.Detail);
        return Assert.Single(upstream.Messages).Data;
    }

    [Fact]
    public async Task Dot_stuffing_holds_across_every_chunk_boundary_and_bdat_carries_the_same_bytes()
    {
        // Lines of every length from 0 to 300 bytes, each starting with a dot: past 16 KB, so the 8 KB chunks the
        // client copies end at many different places within a line, at its CR, and between CR and LF.
        var text = new StringBuilder("Subject: dots\r\n\r\n");
        // The client reads 8 KB at a time: the first chunk ends between a CR and its LF, the second at a line end,
        // so that the third starts with a dot.
        text.Append('y', 8191 - text.Length).Append("\r\n");
        var fill = 16384 - text.Length - 3;
        text.Append('.').Append('z', fill).Append("\r\n");
        Assert.Equal(16384, text.Length);
        text.Append(".dot at the start of a chunk\r\n");
        for (var i = 0; i <= 300; i++)
            text.Append('.').Append('x', i).Append("\r\n");
        text.Append(".\r\n..\r\nlast line without an end");
        var message = Encoding.ASCII.GetBytes(text.ToString());
        var expected = Encoding.ASCII.GetBytes("X-Test: 1\r\n" + text + "\r\n");

        await using var data = new FakeUpstream();
        Assert.Equal(expected, await RelayAsync(data, "X-Test: 1\r\n", message));
        await using var chunking = new FakeUpstream { Chunking = true };
        Assert.Equal(expected, await RelayAsync(chunking, "X-Test: 1\r\n", message));
        Assert.Equal(1, chunking.BdatMessages);
    }

    [Fact]
    public async Task An_empty_message_is_the_header_alone()
    {
        await using var data = new FakeUpstream();
        Assert.Equal("X-Test: 1\r\n"u8.ToArray(), await RelayAsync(data, "X-Test: 1\r\n", []));
        await using var chunking = new FakeUpstream { Chunking = true };
        Assert.Equal("X-Test: 1\r\n"u8.ToArray(), await RelayAsync(chunking, "X-Test: 1\r\n", []));
    }
}
