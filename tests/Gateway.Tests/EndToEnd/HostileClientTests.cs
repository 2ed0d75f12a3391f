using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// What a hostile client puts in its HELO name and envelope addresses never reaches the upstream as anything but
/// what the gateway checked: no comment it did not write in the Received header, no address the upstream must not see.
/// </summary>
public class HostileClientTests
{
    [Fact]
    public async Task A_helo_name_cannot_open_a_comment_in_the_received_header()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            // An unbalanced "(" would make the client's address and everything after it a comment to the reader.
            Assert.StartsWith("250", await c.CommandAsync("EHLO evil(\"<x@y>;"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        var header = Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data);
        Assert.StartsWith("Received: from evil???x?y?? ([127.0.0.1])\r\n", header);
    }

    [Fact]
    public async Task A_long_helo_name_reaches_the_filters_and_the_received_header_whole()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var name = new string('a', 63) + "." + new string('b', 40) + ".example.net"; // 116 octets, a valid host name
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Contains($"Hello {name} [127.0.0.1]", await c.CommandAsync("EHLO " + name));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.StartsWith($"Received: from {name} ([127.0.0.1])\r\n", Mail.ReceivedHeader(Assert.Single(upstream.Messages).Data));
    }

    [Fact]
    public async Task A_non_ascii_address_never_goes_to_an_upstream_without_smtputf8()
    {
        await using var upstream = new FakeUpstream { Utf8 = false };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            // RFC 6531 3.4: such an address must not be sent to a server that did not offer SMTPUTF8.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<élève@sender.test> SMTPUTF8"));
            Assert.StartsWith("553 5.6.7", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RSET"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test> SMTPUTF8"));
            Assert.StartsWith("553 5.6.7", await c.CommandAsync("RCPT TO:<böb@example.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.Equal("bob@example.test", Assert.Single(Assert.Single(upstream.Messages).RcptTo));
        Assert.All(upstream.EnvelopeCommands, line => Assert.True(System.Text.Ascii.IsValid(line), line));
    }

    [Fact]
    public async Task A_non_ascii_recipient_refuses_the_message_at_the_end_of_data_for_an_upstream_without_smtputf8()
    {
        await using var upstream = new FakeUpstream { Utf8 = false };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream, upstreamYaml: "  recipients: at_end_of_data\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, "<alice@sender.test> SMTPUTF8", "<böb@example.test>");
            Assert.StartsWith("553 5.6.7", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.Empty(upstream.Messages);
        Assert.All(upstream.EnvelopeCommands, line => Assert.True(System.Text.Ascii.IsValid(line), line));
    }

    [Theory]
    [InlineData("<a@[x\"y>z\"]>")] // a ">" inside: the upstream would read another path
    [InlineData("<a@[192.0.2.1\tSIZE=1]>")] // a tab: a parameter on the upstream's command line
    [InlineData("<a@[é]>")]
    [InlineData("<a@[192.0.2.300]>")]
    [InlineData("<a@[IPv6:2001:db8::g]>")]
    [InlineData("<a@[:x]>")]
    [InlineData("<a@[x-tag:some.thing]>")] // RFC 5321 4.1.3: no tag but IPv6 is registered
    public async Task A_malformed_address_literal_is_refused_at_mail(string sender)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("501 5.1.7", await c.CommandAsync($"MAIL FROM:{sender} SMTPUTF8"));
            Assert.StartsWith("503", await c.CommandAsync("RCPT TO:<bob@example.test>"));
        }
        Assert.Empty(upstream.EnvelopeCommands);
    }

    [Theory]
    [InlineData("<a@[192.0.2.1]>")]
    [InlineData("<a@[IPv6:2001:db8::1]>")]
    [InlineData("<a@[IPv6:::ffff:192.0.2.1]>")]
    public async Task A_well_formed_address_literal_sender_is_forwarded_as_given(string sender)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, sender);
            Assert.StartsWith("250", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.Equal(sender[1..^1], Assert.Single(upstream.Messages).MailFrom);
    }

    [Theory]
    [InlineData("SMTPUTF8=yes")] // RFC 6531 3.4: no value
    [InlineData("BODY")] // RFC 6152: BODY=7BIT or BODY=8BITMIME
    [InlineData("BODY=")]
    public async Task A_mail_parameter_with_a_value_it_must_not_have_or_without_the_one_it_must_have_is_refused(string parameter)
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("501 5.5.4", await c.CommandAsync($"MAIL FROM:<alice@sender.test> {parameter}"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test> SMTPUTF8 BODY=8BITMIME"));
        }
    }

    [Theory]
    [InlineData("PROXY TCP4 ::1 ::2 40000 25")] // the family must match the addresses
    [InlineData("PROXY TCP6 203.0.113.9 192.0.2.1 40000 25")]
    [InlineData("PROXY TCP4 1 192.0.2.1 40000 25")] // "1" is not a dotted quad (IPAddress reads 0.0.0.1)
    [InlineData("PROXY TCP4 0x7f.1 192.0.2.1 40000 25")]
    [InlineData("PROXY TCP6 fe80::1%1 ::1 40000 25")] // no scope
    public async Task A_malformed_proxy_v1_header_from_a_trusted_proxy_closes_the_connection(string header)
    {
        await using var gateway = await GatewayHost.StartAsync(
            "server:\n  listen: [\"127.0.0.1:0\"]\n  hostname: mx.test.example\n  proxy_protocol: { trusted: [\"127.0.0.1/32\"] }\n");
        var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await using (c)
        {
            await c.SendAsync(header + "\r\n");
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            Assert.Equal("501 5.5.4 Malformed PROXY header", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task Forged_score_headers_are_removed_however_deep_in_a_header_block_the_limits_allow()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("mime:\n  max_header_block: 8MB\n", upstream);
        // Over 3 MB of header fields (32 of about 98 000 octets, under max_header_size), then the forged verdict.
        var fold = "\r\n\t" + new string('p', 998);
        var padding = new System.Text.StringBuilder();
        for (var i = 0; i < 32; i++)
            padding.Append($"X-Pad-{i}: p").Append(string.Concat(Enumerable.Repeat(fold, 98))).Append("\r\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            Assert.StartsWith("250", await c.CommandAsync($"{padding}X-Spam-Flag: NO\r\nSubject: deep\r\n\r\nx\r\n."));
        }
        var text = Assert.Single(upstream.Messages).Text;
        Assert.True(text.Length > 3_000_000);
        Assert.DoesNotContain("X-Spam-Flag", text);
        Assert.Contains("Subject: deep\r\n\r\nx\r\n", text);
    }
}
