using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>policy.bare_line_endings per network: refused from the internet, normalised from relay.networks by default.</summary>
public class BareLineEndingNetworkTests
{
    private const string Relay = "relay:\n  domains: [example.test]\n  networks: [\"127.0.0.1/32\"]\n";

    [Fact]
    public async Task A_bare_lf_from_a_relay_network_is_normalised_by_default()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Relay, upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync("Subject: scan\r\n\r\nfrom the printer\nsecond line\r\n."));
        }
        var body = System.Text.Encoding.ASCII.GetString(Mail.WithoutReceived(Assert.Single(upstream.Messages).Data));
        Assert.Contains("from the printer\r\nsecond line\r\n", body);
    }

    [Fact]
    public async Task Relay_networks_can_be_told_to_refuse_bare_line_endings_too()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Relay + "policy:\n  bare_line_endings_relay_networks: reject\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("554 5.6.0", await c.CommandAsync("Subject: scan\r\n\r\nfrom the printer\nsecond line\r\n."));
        }
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task The_internet_still_gets_554_when_relay_networks_normalise()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("relay:\n  domains: [example.test]\n  networks: [\"192.0.2.0/24\"]\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("554 5.6.0", await c.CommandAsync("Subject: x\r\n\r\nline\nother\r\n."));
        }
        Assert.Empty(upstream.Messages);
    }
}
