using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

public class ProxyProtocolTests
{
    [Fact]
    public async Task A_trusted_proxy_header_sets_the_client_address()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(
            "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  proxy_protocol: { trusted: [\"127.0.0.1/32\"] }\n", upstream);
        var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await using (c)
        {
            await c.SendAsync("PROXY TCP4 203.0.113.9 192.0.2.1 40000 25\r\n");
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("Subject: via proxy\r\n\r\nx\r\n."));
        }
        Assert.Contains("([203.0.113.9])", Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data));
    }

    [Fact]
    public async Task A_proxy_header_from_an_untrusted_client_is_refused_and_the_connection_closed()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("554 5.7.0 PROXY header not accepted from this address", await c.CommandAsync("PROXY TCP4 203.0.113.9 192.0.2.1 40000 25"));
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task A_proxy_header_after_the_first_line_is_refused_even_from_a_trusted_proxy()
    {
        await using var gateway = await GatewayHost.StartAsync(
            "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  proxy_protocol: { trusted: [\"127.0.0.1/32\"] }\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("554 5.7.0", await c.CommandAsync("PROXY TCP4 203.0.113.9 192.0.2.1 40000 25"));
        }
    }

    [Fact]
    public async Task Connect_filters_see_the_address_from_the_proxy_header()
    {
        await using var gateway = await GatewayHost.StartAsync(
            "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  proxy_protocol: { trusted: [\"127.0.0.1/32\"] }\n"
            + "pipeline:\n  connect:\n    - { type: client_list, name: blocked, file: blocked.txt }\n",
            prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "blocked.txt"), "203.0.113.0/24\n"));
        var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await using (c)
        {
            await c.SendAsync("PROXY TCP4 203.0.113.9 192.0.2.1 40000 25\r\n");
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.Equal("554 5.7.1 Access denied to your address (blocked)", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        }
    }
}
