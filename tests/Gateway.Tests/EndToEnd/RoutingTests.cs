using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Support;
using Gateway.Tracking;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// upstream.routes: mail for a.test goes to the default upstream (A), mail for b.test to its route's (B); a transaction
/// never spans two routes, so the client hears 452 4.5.3 for the other route's recipients and sends them again.
/// </summary>
public class RoutingTests
{
    private static string Yaml(string a, string b, string recipients, int maxErrors = 1) => $"""
        relay:
          domains: [a.test, b.test]
        limits:
          max_errors: {maxErrors}
        upstream:
          hosts: ["{a}"]
          tls: none
          timeout: 10s
          recipients: {recipients}
          routes:
            - name: route-b
              domains: [b.test]
              hosts: ["{b}"]
        """;

    private static async Task<RawSmtpClient> OpenAsync(GatewayHost gateway)
    {
        var c = await RawSmtpClient.ConnectAsync(gateway.Port);
        await c.ReadReplyAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
        return c;
    }

    private static async Task<string> SendAsync(RawSmtpClient c, string subject, params string[] to)
    {
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        foreach (var rcpt in to)
            Assert.StartsWith("250", await c.CommandAsync($"RCPT TO:<{rcpt}>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        return await c.CommandAsync($"Subject: {subject}\r\n\r\nHello.\r\n.");
    }

    [Theory]
    [InlineData("realtime")]
    [InlineData("at_end_of_data")]
    public async Task Mail_for_each_domain_reaches_the_upstream_of_its_route(string recipients)
    {
        await using var a = new FakeUpstream();
        await using var b = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, b.HostPort, recipients));
        var records = new RecordProbe();
        gateway.Server.Transactions.Add(records);
        await using var c = await OpenAsync(gateway);

        Assert.StartsWith("250", await SendAsync(c, "for a", "bob@a.test"));
        var record = await records.NextAsync();
        Assert.Equal(("default", TransactionOutcome.Delivered), (record.Route, record.Outcome));
        Assert.StartsWith("250", await SendAsync(c, "for b", "carol@b.test", "dave@B.TEST"));
        record = await records.NextAsync();
        Assert.Equal(("route-b", TransactionOutcome.Delivered), (record.Route, record.Outcome));
        Assert.Contains($"upstream=\"{b.HostPort}", await gateway.Logs.WaitForAsync(l => l.Contains("route=route-b", StringComparison.Ordinal)));

        var forA = Assert.Single(a.Messages);
        Assert.Equal(["bob@a.test"], forA.RcptTo);
        Assert.Contains("Subject: for a", forA.Text);
        var forB = Assert.Single(b.Messages);
        Assert.Equal(["carol@b.test", "dave@B.TEST"], forB.RcptTo);
        Assert.Contains("Subject: for b", forB.Text);
    }

    [Theory]
    [InlineData("realtime")]
    [InlineData("at_end_of_data")]
    public async Task A_recipient_of_another_route_gets_452_4_5_3_and_comes_in_the_next_transaction(string recipients)
    {
        await using var a = new FakeUpstream();
        await using var b = new FakeUpstream();
        // limits.max_errors: 1: were the 452 counted as an error, the session would be closed at the next command.
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, b.HostPort, recipients));
        var records = new RecordProbe();
        gateway.Server.Transactions.Add(records);
        await using var c = await OpenAsync(gateway);

        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@a.test>"));
        Assert.Equal("452 4.5.3 Recipients of b.test must be sent in a separate transaction", await c.CommandAsync("RCPT TO:<carol@b.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<erin@a.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250", await c.CommandAsync("Subject: first\r\n\r\nHello.\r\n."));
        var first = await records.NextAsync();
        Assert.Equal(("default", TransactionOutcome.Delivered), (first.Route, first.Outcome));
        var refused = Assert.Single(first.Recipients, r => !r.Accepted);
        Assert.Equal(("carol@b.test", "route"), (refused.Address, refused.RefusedBy));

        // The client sends the refused recipient again, in its next transaction.
        Assert.StartsWith("250", await SendAsync(c, "second", "carol@b.test"));
        Assert.Equal("route-b", (await records.NextAsync()).Route);

        Assert.Equal(["bob@a.test", "erin@a.test"], Assert.Single(a.Messages).RcptTo);
        Assert.Equal(["carol@b.test"], Assert.Single(b.Messages).RcptTo);
        Assert.DoesNotContain("carol", string.Join(" ", a.EnvelopeCommands));
        Assert.StartsWith("221", await c.CommandAsync("QUIT"));
        Assert.Contains("errors=0", await gateway.Logs.WaitForAsync(l => l.Contains("session end", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("realtime")]
    [InlineData("at_end_of_data")]
    public async Task A_routes_upstream_down_tempfails_its_recipients_while_the_other_route_delivers(string recipients)
    {
        await using var a = new FakeUpstream();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var down = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, down, recipients, maxErrors: 5));
        await using var c = await OpenAsync(gateway);

        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        if (recipients == "realtime")
        {
            // Asked at RCPT: the recipient waits, and the transaction is still free to take another route's.
            Assert.Equal("451 4.4.1 Upstream server unavailable, try again later", await c.CommandAsync("RCPT TO:<carol@b.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@a.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: for a\r\n\r\nHello.\r\n."));
        }
        else
        {
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<carol@b.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("451 4.4.1", await c.CommandAsync("Subject: for b\r\n\r\nHello.\r\n."));
            Assert.StartsWith("250", await SendAsync(c, "for a", "bob@a.test"));
        }
        Assert.Equal(["bob@a.test"], Assert.Single(a.Messages).RcptTo);
        await gateway.Logs.WaitForAsync(l => l.Contains($"upstream {down} unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_transaction_whose_first_recipient_was_refused_upstream_may_take_another_route()
    {
        await using var a = new FakeUpstream { RcptReply = r => r.StartsWith("nobody", StringComparison.Ordinal) ? "550 5.1.1 user unknown" : null };
        await using var b = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, b.HostPort, "realtime", maxErrors: 5));
        await using var c = await OpenAsync(gateway);

        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.Equal("550 5.1.1 user unknown", await c.CommandAsync("RCPT TO:<nobody@a.test>"));
        var reset = a.WaitForResetAsync();
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<carol@b.test>"));
        await reset; // the transaction opened on A is reset there: nothing of it stays open
        Assert.Equal("452 4.5.3 Recipients of a.test must be sent in a separate transaction", await c.CommandAsync("RCPT TO:<bob@a.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250", await c.CommandAsync("Subject: for b\r\n\r\nHello.\r\n."));
        Assert.Equal(["carol@b.test"], Assert.Single(b.Messages).RcptTo);
        Assert.Empty(a.Messages);
    }

    [Fact]
    public async Task A_reload_that_changes_one_route_gives_it_a_new_pool_and_keeps_the_others()
    {
        await using var a = new FakeUpstream();
        await using var b = new FakeUpstream();
        await using var b2 = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, b.HostPort, "realtime"));
        await using (var c = await OpenAsync(gateway))
        {
            Assert.StartsWith("250", await SendAsync(c, "a before", "bob@a.test"));
            Assert.StartsWith("250", await SendAsync(c, "b before", "carol@b.test"));
        }
        // A session that started before the reload keeps its configuration to the end.
        await using var old = await OpenAsync(gateway);

        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        var reloaded = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded", StringComparison.Ordinal));
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace(b.HostPort, b2.HostPort, StringComparison.Ordinal));
        await reloaded;

        await using (var c = await OpenAsync(gateway))
        {
            Assert.StartsWith("250", await SendAsync(c, "a after", "bob@a.test"));
            Assert.StartsWith("250", await SendAsync(c, "b after", "carol@b.test"));
        }
        Assert.StartsWith("250", await SendAsync(old, "b in the old session", "carol@b.test"));

        Assert.Equal(2, a.Messages.Count);
        Assert.Equal(1, a.Connections); // the unchanged route kept its pool, and its idle connection
        Assert.Equal(["Subject: b before", "Subject: b in the old session"], b.Messages.Select(m => m.Text.Split("\r\n").First(l => l.StartsWith("Subject:", StringComparison.Ordinal))));
        Assert.Contains("Subject: b after", Assert.Single(b2.Messages).Text);
    }

    [Fact]
    public async Task A_directory_route_beside_a_realtime_smtp_route_stores_its_mail_at_the_end_of_data()
    {
        await using var a = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Yaml(a.HostPort, "unused:25", "realtime").Replace("hosts: [\"unused:25\"]", "directory: b-mail", StringComparison.Ordinal));
        await using var c = await OpenAsync(gateway);

        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<carol@b.test>"));
        Assert.Equal("452 4.5.3 Recipients of a.test must be sent in a separate transaction", await c.CommandAsync("RCPT TO:<bob@a.test>"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: stored as", await c.CommandAsync("Subject: for b\r\n\r\nHello.\r\n."));
        Assert.StartsWith("250", await SendAsync(c, "for a", "bob@a.test"));

        var stored = Assert.Single(Directory.GetFiles(Path.Combine(gateway.Directory, "b-mail"), "*.eml"));
        Assert.Contains("Subject: for b", await File.ReadAllTextAsync(stored));
        Assert.Equal(["bob@a.test"], Assert.Single(a.Messages).RcptTo);
        Assert.Equal(1, a.Connections); // the b.test transaction never opened one
    }
}
