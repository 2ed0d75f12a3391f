using System.Buffers.Binary;
using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>PROXY protocol v2 (binary) beside v1: believed from proxy_protocol.trusted only; limits count the client it names.</summary>
public class ProxyProtocolV2Tests
{
    private const string Trusted = "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  proxy_protocol: { trusted: [\"127.0.0.1/32\"] }\n";

    /// <summary>A v2 PROXY header for a TCP connection from <paramref name="source"/> (IPv4 or IPv6).</summary>
    private static byte[] Header(string source, int sourcePort = 40000)
    {
        var client = IPAddress.Parse(source);
        var v6 = client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var server = v6 ? IPAddress.Parse("2001:db8::25") : IPAddress.Parse("192.0.2.25");
        var length = v6 ? 36 : 12;
        var header = new byte[16 + length];
        byte[] signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];
        signature.CopyTo(header, 0);
        header[12] = 0x21; // version 2, PROXY
        header[13] = (byte)(v6 ? 0x21 : 0x11); // TCP over IPv6 / IPv4
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)length);
        var addressLength = v6 ? 16 : 4;
        client.GetAddressBytes().CopyTo(header, 16);
        server.GetAddressBytes().CopyTo(header, 16 + addressLength);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * addressLength), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16 + 2 * addressLength + 2), 25);
        return header;
    }

    [Theory]
    [InlineData("203.0.113.9", "([203.0.113.9])")]
    [InlineData("2001:db8::9", "([2001:db8::9])")]
    public async Task A_trusted_proxys_v2_header_sets_the_client_address(string client, string expected)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Trusted, upstream);
        await using (var c = await RawSmtpClient.ConnectAsync(gateway.Port))
        {
            await c.SendAsync(Header(client));
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("Subject: via proxy v2\r\n\r\nx\r\n."));
        }
        Assert.Contains(expected, Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data));
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains($"client={client}", line);
    }

    [Fact]
    public async Task A_v2_header_from_an_untrusted_client_is_refused_and_the_connection_closed()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await c.SendAsync(Header("203.0.113.9"));
            Assert.Equal("554 5.7.0 PROXY header not accepted from this address", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
        Assert.Equal(0, upstream.Connections);
    }

    [Fact]
    public async Task The_per_address_limit_counts_the_client_the_header_names_not_the_proxy()
    {
        await using var gateway = await GatewayHost.StartAsync(Trusted + "limits:\n  max_connections_per_ip: 1\n");
        await using var first = await RawSmtpClient.ConnectAsync(gateway.Port);
        await first.SendAsync(Header("203.0.113.9"));
        Assert.StartsWith("220 ", await first.ReadReplyAsync());
        Assert.StartsWith("250", await first.CommandAsync("EHLO one.test"));

        // Another client through the same proxy: its own slot.
        await using var second = await RawSmtpClient.ConnectAsync(gateway.Port);
        await second.SendAsync("PROXY TCP4 203.0.113.10 192.0.2.25 40001 25\r\n");
        Assert.StartsWith("220 ", await second.ReadReplyAsync());
        Assert.StartsWith("250", await second.CommandAsync("EHLO two.test"));

        // The first client again: over its limit.
        await using var third = await RawSmtpClient.ConnectAsync(gateway.Port);
        await third.SendAsync(Header("203.0.113.9", 40002));
        Assert.StartsWith("220 ", await third.ReadReplyAsync());
        Assert.Equal("421 4.7.0 Too many connections from your address, try again later", await third.ReadReplyAsync());
        Assert.True(await third.IsClosedAsync());
    }
}
