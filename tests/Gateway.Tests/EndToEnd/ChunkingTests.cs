using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>CHUNKING/BDAT (RFC 3030): chunks framed by their sizes, forwarded upstream as DATA, byte-exact.</summary>
public class ChunkingTests
{
    private const string TlsYaml = "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  tls: { certificate: cert.pem, key: key.pem }\n";

    /// <summary>Sends BDAT with its chunk (no CRLF added) and returns the reply.</summary>
    private static async Task<string> ChunkAsync(RawSmtpClient c, string data, bool last = false)
    {
        await c.SendAsync($"BDAT {Encoding.UTF8.GetByteCount(data)}{(last ? " LAST" : "")}\r\n{data}");
        return await c.ReadReplyAsync();
    }

    private static async Task<RawSmtpClient> ReadyAsync(GatewayHost gateway)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        var ehlo = await c.CommandAsync("EHLO client.test");
        Assert.Contains("250-CHUNKING", ehlo);
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        return c;
    }

    [Fact]
    public async Task Two_chunks_where_the_first_ends_inside_a_line_arrive_byte_exact()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        var message = "Subject: chunks\r\n\r\nfirst line\r\n.a line with a leading dot\r\nsplit he";
        var rest = "re and\r\nthe end\r\n";
        await using (var c = await ReadyAsync(gateway))
        {
            // Pipelined: both chunks in one write, the first ending between "he" and "re", the second's CRLF split too.
            await c.SendAsync($"BDAT {Encoding.ASCII.GetByteCount(message)}\r\n{message}BDAT {rest.Length} LAST\r\n{rest}");
            Assert.Equal($"250 2.0.0 {Encoding.ASCII.GetByteCount(message)} octets received", await c.ReadReplyAsync());
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
        }
        Assert.Equal(message + rest, Encoding.ASCII.GetString(Mail.WithoutReceived(Assert.Single(upstream.Messages).Data)));
    }

    [Fact]
    public async Task A_crlf_split_across_two_chunks_is_one_line_end()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        await using (var c = await ReadyAsync(gateway))
        {
            Assert.Equal("250 2.0.0 21 octets received", await ChunkAsync(c, "Subject: split\r\n\r\nab\r"));
            Assert.Equal("250 2.0.0 1 octets received", await ChunkAsync(c, "\n"));
            Assert.StartsWith("250 2.0.0", await c.CommandAsync("BDAT 0 LAST"));
        }
        Assert.Equal("Subject: split\r\n\r\nab\r\n", Encoding.ASCII.GetString(Mail.WithoutReceived(Assert.Single(upstream.Messages).Data)));
    }

    [Fact]
    public async Task A_chunk_over_the_size_limit_is_refused_at_once_and_the_connection_closed()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_message_size: 4KB\n", upstream);
        await using (var c = await ReadyAsync(gateway))
        {
            Assert.StartsWith("250", await ChunkAsync(c, new string('x', 998) + "\r\n"));
            // Declared, never sent: the reply comes before any of it, and nothing waits for the 999999999999 octets.
            Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size, closing connection", await c.CommandAsync("BDAT 999999999999 LAST"));
            Assert.True(await c.IsClosedAsync());
        }
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=abandoned", line);
    }

    [Fact]
    public async Task A_bare_lf_in_a_chunk_is_refused_as_in_DATA()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        await using (var c = await ReadyAsync(gateway))
        {
            var body = "Subject: x\r\n\r\nline\nother\r\n";
            Assert.StartsWith("250", await ChunkAsync(c, body));
            Assert.StartsWith("554 5.6.0", await c.CommandAsync("BDAT 0 LAST"));
            // The session goes on.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        }
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Only_BDAT_RSET_NOOP_or_QUIT_may_come_between_chunks()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        await using (var c = await ReadyAsync(gateway))
        {
            Assert.StartsWith("250", await ChunkAsync(c, "ab\r\n"));
            Assert.StartsWith("503 5.5.1", await c.CommandAsync("MAIL FROM:<other@sender.test>"));
            Assert.StartsWith("503 5.5.1", await c.CommandAsync("DATA"));
            Assert.Equal("250 2.0.0 Reset OK", await c.CommandAsync("RSET"));
            // After RSET there is no transaction: a BDAT is refused, its chunk read and dropped.
            Assert.StartsWith("503 5.5.1", await ChunkAsync(c, "xyz", last: true));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
        }
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Starttls_between_chunks_is_refused()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(TlsYaml, upstream, prepareDirectory: dir => TestCertificates.WritePem(dir));
        await using (var c = await ReadyAsync(gateway))
        {
            Assert.StartsWith("250", await ChunkAsync(c, "ab\r\n"));
            Assert.StartsWith("503 5.5.1", await c.CommandAsync("STARTTLS"));
            Assert.StartsWith("250 2.0.0", await c.CommandAsync("BDAT 0 LAST"));
        }
        Assert.Equal("ab\r\n", Encoding.ASCII.GetString(Mail.WithoutReceived(Assert.Single(upstream.Messages).Data)));
    }

    [Fact]
    public async Task A_refused_bdat_has_its_chunk_dropped_and_the_commands_inside_never_run()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            // No transaction: 503, and the chunk (a whole transaction's commands) is read as data and dropped.
            var inside = "MAIL FROM:<spoof@example.test>\r\nRCPT TO:<bob@example.test>\r\n";
            Assert.Equal("503 5.5.1 Bad sequence of commands", await ChunkAsync(c, inside, last: true));
            Assert.Equal("503 5.5.1 Bad sequence of commands", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
        }
        Assert.Empty(upstream.EnvelopeCommands);
    }
}
