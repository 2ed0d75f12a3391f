using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using MailKit.Net.Smtp;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The client hears 250 only when the upstream took the message for every recipient; otherwise it hears why. Tests
/// that name at_end_of_data pin the whole-message mode; the rest hold in both (realtime is the default).
/// </summary>
public class UpstreamFailureTests
{
    private static int UnusedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>The refusal, which names its transaction (<c>[ref ID]</c>, stripped by <see cref="Text"/>).</summary>
    private static async Task<SmtpCommandException> RefusedAsync(int port, MimeKit.MimeMessage? message = null, IEnumerable<string>? to = null)
    {
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => Mail.SendAsync(port, message ?? Mail.Message(), to: to));
        Assert.NotNull(Refs.Of(e.Message));
        return e;
    }

    private static string Text(SmtpCommandException e) => Refs.Strip(e.Message);

    [Fact]
    public async Task Upstream_down_at_the_end_of_data_is_a_451_4_4_1()
    {
        var port = UnusedPort();
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"127.0.0.1:{port}\"]\n  tls: none\n  recipients: at_end_of_data\n");
        var e = await RefusedAsync(gateway.Port);
        Assert.Equal(451, (int)e.StatusCode);
        Assert.Equal("4.4.1 Upstream server unavailable, try again later", Text(e));
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=tempfailed", line);
        Assert.Contains($"upstream=\"127.0.0.1:{port}: Connection refused\"", line);
    }

    [Fact]
    public async Task Hosts_are_tried_in_order()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"127.0.0.1:{UnusedPort()}\", \"{upstream.HostPort}\"]\n  tls: none\n");
        await Mail.SendAsync(gateway.Port, Mail.Message());
        Assert.Single(upstream.Messages);
    }

    [Theory]
    [InlineData("451 4.3.0 Temporary lookup failure", 451, "4.3.0 Temporary lookup failure")]
    [InlineData("550 5.7.1 Sender blocked", 550, "5.7.1 Sender blocked")]
    [InlineData("421 4.3.2 Shutting down", 451, "4.3.2 Shutting down")]
    public async Task The_upstreams_refusal_of_the_sender_is_relayed(string upstreamReply, int code, string text)
    {
        await using var upstream = new FakeUpstream { MailReply = _ => upstreamReply };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var e = await RefusedAsync(gateway.Port);
        Assert.Equal(code, (int)e.StatusCode);
        Assert.Equal(text, Text(e));
    }

    [Fact]
    public async Task The_upstreams_refusal_of_the_message_is_relayed_as_one_clean_line()
    {
        await using var upstream = new FakeUpstream { DataReply = _ => "554 5.7.1 Spam\u0007 detected\r" };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var e = await RefusedAsync(gateway.Port);
        Assert.Equal(554, (int)e.StatusCode);
        Assert.Equal("5.7.1 Spam detected", Text(e));
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task At_end_of_data_a_recipient_the_upstream_refuses_refuses_the_whole_message()
    {
        await using var upstream = new FakeUpstream { RcptReply = r => r.StartsWith("nobody", StringComparison.Ordinal) ? "550 5.1.1 <nobody@example.test>: user unknown" : null };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream, upstreamYaml: "  recipients: at_end_of_data\n");
        var e = await RefusedAsync(gateway.Port, to: ["bob@example.test", "nobody@example.test"]);
        Assert.Equal(550, (int)e.StatusCode);
        Assert.Equal("5.1.1 <nobody@example.test>: user unknown", Text(e));
        Assert.Empty(upstream.Messages); // never delivered to bob alone while the client thinks it failed
        // The refusal reset the upstream connection, which serves the next message.
        await gateway.Logs.WaitForAsync(l => l.Contains("reset; connection back in the pool", StringComparison.Ordinal));
        await Mail.SendAsync(gateway.Port, Mail.Message());
        Assert.Single(upstream.Messages);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task An_upstream_dropping_mid_data_is_a_451_and_no_250()
    {
        await using var upstream = new FakeUpstream { DropAfterDataBytes = 100 };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        var e = await RefusedAsync(gateway.Port, Mail.Message(body: new string('b', 5000) + "\r\n"));
        Assert.Equal(451, (int)e.StatusCode);
        Assert.StartsWith("4.4.1", Text(e));
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task An_upstream_timing_out_is_a_451()
    {
        using var release = new ManualResetEventSlim();
        await using var upstream = new FakeUpstream { DataReply = _ => { release.Wait(TimeSpan.FromSeconds(30)); return null; } };
        await using var quick = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"{upstream.HostPort}\"]\n  tls: none\n  timeout: 500ms\n");
        var e = await RefusedAsync(quick.Port);
        release.Set();
        Assert.Equal(451, (int)e.StatusCode);
        Assert.StartsWith("4.4.1", Text(e));
    }

    [Fact]
    public async Task A_pooled_connection_the_upstream_closed_is_replaced_transparently()
    {
        await using var upstream = new FakeUpstream { CloseAfterMessages = 1 };
        await using var gateway = await GatewayHost.StartAsync(upstream: upstream);
        for (var i = 0; i < 3; i++)
            Assert.Equal("2.0.0 Ok: queued as TEST", await Mail.SendAsync(gateway.Port, Mail.Message($"m{i}")));
        Assert.Equal(3, upstream.Messages.Count);
    }

    [Fact]
    public async Task Required_upstream_tls_refuses_to_send_in_the_clear()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"{upstream.HostPort}\"]\n  tls: required\n");
        var e = await RefusedAsync(gateway.Port);
        Assert.Equal(451, (int)e.StatusCode);
        Assert.Empty(upstream.Messages);
    }

    [Theory]
    [InlineData("required")]
    [InlineData("opportunistic")]
    public async Task Upstream_starttls_is_used_when_offered(string mode)
    {
        using var certificate = TestCertificates.Create("upstream.test");
        await using var upstream = new FakeUpstream(certificate);
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"{upstream.HostPort}\"]\n  tls: {mode}\n");
        await Mail.SendAsync(gateway.Port, Mail.Message());
        Assert.True(Assert.Single(upstream.Messages).OverTls);
    }

    [Fact]
    public async Task Plaintext_an_upstream_sends_behind_its_starttls_reply_is_never_read_as_if_over_tls()
    {
        using var certificate = TestCertificates.Create("upstream.test");
        // CVE-2011-0411's other side: a man in the middle appends replies in the clear to the 220.
        await using var upstream = new FakeUpstream(certificate) { AfterStartTls = "250-upstream.test\r\n250 SIZE 1\r\n" };
        await using var gateway = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"{upstream.HostPort}\"]\n  tls: required\n");
        var e = await RefusedAsync(gateway.Port);
        Assert.Equal(451, (int)e.StatusCode);
        Assert.Empty(upstream.EnvelopeCommands);
    }
}
