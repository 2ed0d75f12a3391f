using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Support;
using Gateway.Transports.Milter;

namespace Gateway.Tests.Transports.Milter;

/// <summary>
/// A milter session over a raw socket, packet by packet, as Postfix drives it: the same engine and pipeline as SMTP,
/// verdicts and header edits as milter replies, and every way a session can go wrong ending it cleanly.
/// </summary>
public sealed class MilterSessionTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();

    private const string Rules = """
        rules:
          - id: no-mallory
            match: { rcpt_to: { exact: mallory@example.test } }
            action: reject
            reply: "550 5.7.1 Mallory takes no mail here"
          - id: no-lottery
            match: { subject: { regex: lottery } }
            action: reject
            reply: "550 5.7.1 Lottery mail is not welcome (100% sure)"
          - id: hold-invoices
            match: { subject: { regex: invoice } }
            action: quarantine
          - id: drop-noise
            match: { subject: { regex: noise } }
            action: discard
        """;

    public MilterSessionTests() => _dns.Txt("sender.test", "v=spf1 ip4:192.0.2.0/24 -all");

    private Task<GatewayHost> StartAsync(string milter = "listen: [\"127.0.0.1:0\"]") => GatewayHost.StartAsync($$"""
        dns: { servers: ["{{_dns.EndPoint}}"], timeout: 500ms, retries: 0 }
        quarantine: { directory: quarantine }
        rules: { files: [r.yaml] }
        pipeline:
          mail_from: [{ type: spf }]
        milter: { {{milter}} }
        """, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "r.yaml"), Rules));

    private static EndPoint MilterEndPoint(GatewayHost gateway)
    {
        var endpoint = gateway.Server.MilterEndpoints[0];
        return endpoint.Tcp ?? (EndPoint)new UnixDomainSocketEndPoint(endpoint.UnixPath!);
    }

    private static async Task<MilterClient> OpenAsync(GatewayHost gateway, string client = "192.0.2.7")
    {
        var milter = await MilterClient.ConnectAsync(MilterEndPoint(gateway));
        await milter.NegotiateAsync();
        await milter.ConnectAsync(client);
        await milter.SendAsync('H', MilterClient.Strings("client.test"));
        return milter;
    }

    /// <summary>MAIL (with the queue id macro) and each RCPT, with their replies.</summary>
    private static async Task<List<MilterPacketReply>> EnvelopeAsync(MilterClient milter, string sender, params string[] recipients)
    {
        var replies = new List<MilterPacketReply>();
        await milter.SendAsync('D', [(byte)'M'], MilterClient.Strings("i", "4dQueue1", "{auth_authen}", ""));
        await milter.SendAsync('M', MilterClient.Strings(sender, "SIZE=100", "RET=HDRS"));
        replies.Add((await milter.ReadAsync())!);
        foreach (var recipient in recipients)
        {
            await milter.SendAsync('R', MilterClient.Strings(recipient, "NOTIFY=NEVER"));
            replies.Add((await milter.ReadAsync())!);
        }
        return replies;
    }

    /// <summary>Headers as Postfix sends them with SMFIP_HDR_LEADSPC, the body, the end of the message: the decision.</summary>
    private static async Task<List<MilterPacketReply>> MessageAsync(MilterClient milter, string subject, params (string Name, string Value)[] more)
    {
        foreach (var (name, value) in more)
            await milter.SendAsync('L', MilterClient.Strings(name, value));
        await milter.SendAsync('L', MilterClient.Strings("From", " alice@sender.test"));
        await milter.SendAsync('L', MilterClient.Strings("Subject", " " + subject));
        await milter.SendAsync('B', Encoding.ASCII.GetBytes("Hello Bob.\r\n"));
        await milter.SendAsync('E');
        return await milter.ReadDecisionAsync();
    }

    private static string Uint(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Encoding.Latin1.GetString(bytes);
    }

    [Fact]
    public async Task Negotiation_asks_for_header_edits_quarantine_and_our_macros_and_the_mta_only_waits_where_we_may_refuse()
    {
        await using var gateway = await StartAsync();
        await using var milter = await MilterClient.ConnectAsync(MilterEndPoint(gateway));
        var (version, actions, steps, macros) = await milter.NegotiateAsync();
        Assert.Equal(6u, version);
        Assert.Equal((uint)(MilterActions.AddHeaders | MilterActions.ChangeHeaders | MilterActions.Quarantine | MilterActions.SetMacroList), actions);
        var agreed = (MilterSteps)steps;
        Assert.True(agreed.HasFlag(MilterSteps.HeaderLeadingSpace | MilterSteps.NoReplyConnect | MilterSteps.NoReplyHelo | MilterSteps.NoReplyHeader | MilterSteps.NoReplyBody));
        Assert.False(agreed.HasFlag(MilterSteps.NoReplyMail) || agreed.HasFlag(MilterSteps.NoReplyRcpt) || agreed.HasFlag(MilterSteps.NoHeaders));
        Assert.Contains("{client_addr}", macros);
        Assert.Contains("{auth_authen}", macros);

        // An MTA speaking an older version gets that version back (Postfix drops a milter whose version is above its own).
        await using var older = await MilterClient.ConnectAsync(MilterEndPoint(gateway));
        Assert.Equal(2u, (await older.NegotiateAsync(version: 2, actions: 0x1f, steps: 0x7f)).Version);
    }

    [Fact]
    public async Task With_an_empty_server_listen_the_gateway_is_a_milter_only_and_opens_no_smtp_port()
    {
        await using var gateway = await GatewayHost.StartAsync($$"""
            server: { listen: [], hostname: mx.test.example }
            dns: { servers: ["{{_dns.EndPoint}}"], timeout: 500ms, retries: 0 }
            pipeline:
              mail_from: [{ type: spf }]
            milter: { listen: ["127.0.0.1:0"] }
            """);
        Assert.Empty(gateway.Server.Endpoints);
        await using var milter = await OpenAsync(gateway);
        Assert.All(await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>"), r => Assert.Equal('c', r.Code));
        Assert.Equal('c', (await MessageAsync(milter, "hello"))[^1].Code);

        // Neither SMTP nor milter: a configuration error, not a gateway that silently receives nothing.
        var errors = Gateway.Configuration.ConfigLoader.Load("server: { listen: [] }\nrelay: { domains: [example.test] }\nupstream: { directory: d }\n", "gateway.yaml", gateway.Directory).Errors;
        Assert.Contains(errors, e => e.Message.Contains("'server.listen' is empty and there is no 'milter' section", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_accepted_message_gets_our_authentication_results_on_top_and_loses_a_forged_one()
    {
        await using var gateway = await StartAsync();
        await using var milter = await OpenAsync(gateway);
        // elsewhere.test is not in relay.domains: in milter mode the MTA owns relay control.
        var envelope = await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>", "<carol@elsewhere.test>");
        Assert.All(envelope, r => Assert.Equal('c', r.Code));

        var decision = await MessageAsync(milter, "hello\n\tworld", ("Authentication-Results", " mx.test.example; spf=pass (forged)"), ("X-Gateway-Score", " -10"));
        Assert.Equal(4, decision.Count);
        Assert.Equal(new MilterPacketReply('m', Encoding.Latin1.GetBytes(Uint(1) + "X-Gateway-Score\0\0")).ToString(), decision[0].ToString());
        Assert.Equal(new MilterPacketReply('m', Encoding.Latin1.GetBytes(Uint(1) + "Authentication-Results\0\0")).ToString(), decision[1].ToString());
        Assert.Equal('i', decision[2].Code);
        Assert.StartsWith(Uint(0) + "Authentication-Results\0 mx.test.example;", Encoding.Latin1.GetString(decision[2].Payload));
        Assert.Contains("spf=pass", decision[2].Text);
        Assert.Equal('c', decision[3].Code);

        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("queue_id=4dQueue1", line);
        Assert.Contains("outcome=delivered", line);
        Assert.Contains("to=\"<bob@example.test>,<carol@elsewhere.test>\"", line);
        Assert.Contains("auth=\"spf=pass", line);
        Assert.Contains("subject=\"hello", line);
    }

    [Fact]
    public async Task Refusals_carry_our_code_enhanced_code_and_text_at_rcpt_and_at_the_end_of_the_message()
    {
        await using var gateway = await StartAsync();
        await using var milter = await OpenAsync(gateway);
        var envelope = await EnvelopeAsync(milter, "<alice@sender.test>", "<mallory@example.test>", "<bob@example.test>");
        Assert.Equal('y', envelope[1].Code);
        var atRcpt = envelope[1].Text.TrimEnd('\0');
        Assert.Equal("550 5.7.1 Mallory takes no mail here", Refs.Strip(atRcpt));
        Assert.Equal('c', envelope[2].Code);

        var decision = Assert.Single(await MessageAsync(milter, "you won the lottery"));
        Assert.StartsWith("y 550 5.7.1 Lottery mail is not welcome (100%% sure) [ref ", decision.ToString());
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        // The RCPT refusal names the transaction, as over SMTP: the one the end of the message names too.
        Assert.NotNull(Refs.Of(atRcpt));
        Assert.Equal(Refs.Of(decision.Text.TrimEnd('\0')), Refs.Of(atRcpt));
        Assert.Contains($"transaction id={Refs.Of(atRcpt)} ", line);
        Assert.Contains("by=rule:no-lottery", line);
        Assert.Contains("refused=\"<mallory@example.test> 550 5.7.1 by rule:no-mallory\"", line);

        // SMFIC_ABORT after the transaction (as Postfix sends it), then another one on the same session.
        await milter.SendAsync('A');
        Assert.All(await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>"), r => Assert.Equal('c', r.Code));
        await milter.SendAsync('A');
        Assert.All(await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>"), r => Assert.Equal('c', r.Code));
        Assert.Equal('c', (await MessageAsync(milter, "hello"))[^1].Code);
    }

    [Fact]
    public async Task A_connect_refusal_names_the_session_and_a_sequence_error_names_nothing_as_over_smtp()
    {
        // Without delay_reject, so that the refusal is the answer to the connect packet (with it, RCPT's: a transaction's).
        await using var gateway = await GatewayHost.StartAsync("""
            pipeline:
              delay_reject: false
              connect: [{ type: client_list, name: blocked, file: blocked.txt }]
            milter: { listen: ["127.0.0.1:0"] }
            """, prepareDirectory: d => File.WriteAllText(Path.Combine(d, "blocked.txt"), "198.51.100.0/24\n"));
        await using (var refused = await MilterClient.ConnectAsync(MilterEndPoint(gateway)))
        {
            await refused.NegotiateAsync();
            await refused.ConnectAsync("198.51.100.9");
            var reply = (await refused.ReadAsync())!;
            Assert.Equal('y', reply.Code);
            var text = reply.Text.TrimEnd('\0');
            Assert.Equal("554 5.7.1 Access denied to your address (blocked)", Refs.Strip(text));
            var id = Refs.Of(text);
            Assert.NotNull(id);
            await refused.SendAsync('Q');
            Assert.True(await refused.ClosedAsync());
            Assert.Contains($"session end id={id} ", await gateway.Logs.WaitForAsync(l => l.Contains("session end id=")));
        }

        // RCPT with no transaction open: 503, RFC 5321's sequence error, which names nothing (Reply.NeedsRef).
        await using var milter = await MilterClient.ConnectAsync(MilterEndPoint(gateway));
        await milter.NegotiateAsync();
        await milter.ConnectAsync("192.0.2.7");
        Assert.Equal('c', (await milter.ReadAsync())!.Code);
        await milter.SendAsync('H', MilterClient.Strings("client.test"));
        await milter.SendAsync('R', MilterClient.Strings("<bob@example.test>"));
        Assert.Equal("y 503 5.5.1 Bad sequence of commands|", (await milter.ReadAsync())!.ToString());
    }

    [Fact]
    public async Task A_quarantine_is_stored_by_the_gateway_and_discarded_by_the_mta_or_held_by_the_mta_as_configured()
    {
        await using (var gateway = await StartAsync())
        {
            await using var milter = await OpenAsync(gateway);
            await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>");
            Assert.Equal('d', Assert.Single(await MessageAsync(milter, "your invoice")).Code);
            var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
            Assert.Contains("outcome=quarantined", line);
            var eml = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(gateway.Directory, "quarantine"), "*.eml")));
            Assert.Contains("Authentication-Results: mx.test.example;", eml);
            Assert.Contains("Subject: your invoice\r\n\r\nHello Bob.\r\n", eml);
        }
        await using (var gateway = await StartAsync("listen: [\"127.0.0.1:0\"], quarantine: mta"))
        {
            await using var milter = await OpenAsync(gateway);
            await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>");
            var decision = await MessageAsync(milter, "your invoice");
            Assert.Equal("q rule:hold-invoices: held by the gateway|", decision[^2].ToString());
            Assert.Equal('c', decision[^1].Code);
            Assert.Contains("outcome=quarantined", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));
            Assert.False(Directory.Exists(Path.Combine(gateway.Directory, "quarantine")) && Directory.GetFiles(Path.Combine(gateway.Directory, "quarantine"), "*.eml").Length > 0);
        }
    }

    [Fact]
    public async Task A_discard_is_a_discard_for_the_mta_and_in_the_log()
    {
        await using var gateway = await StartAsync();
        await using var milter = await OpenAsync(gateway);
        await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>");
        Assert.Equal('d', Assert.Single(await MessageAsync(milter, "more noise")).Code);
        Assert.Contains("outcome=discarded", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));
    }

    [Fact]
    public async Task The_unix_socket_listener_speaks_the_same_protocol()
    {
        await using var gateway = await StartAsync("listen: [\"unix:milter.sock\"]");
        Assert.EndsWith("milter.sock", gateway.Server.MilterEndpoints[0].UnixPath);
        await using var milter = await OpenAsync(gateway);
        Assert.All(await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>"), r => Assert.Equal('c', r.Code));
        await milter.SendAsync('Q');
        Assert.True(await milter.ClosedAsync());
    }

    public static TheoryData<string, byte[]> BrokenPackets => new()
    {
        { "protocol error: HELO name is not NUL-terminated", MilterClient.Packet('H', Encoding.ASCII.GetBytes("no terminator")) },
        { "exceeds the limit", [0x7f, 0xff, 0xff, 0xff, (byte)'B'] },
        { "protocol error: empty packet", [0, 0, 0, 0] },
        { "unknown command 0x5a", MilterClient.Packet('Z') },
        { "a second option negotiation", MilterClient.Packet('O', new byte[12]) },
    };

    [Theory]
    [MemberData(nameof(BrokenPackets))]
    public async Task A_broken_packet_ends_that_session_cleanly_logged_once_and_the_next_session_is_served(string logged, byte[] packet)
    {
        await using var gateway = await StartAsync();
        await using (var milter = await OpenAsync(gateway))
        {
            await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>");
            await milter.SendRawAsync(packet);
            Assert.True(await milter.ClosedAsync());
        }
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("milter session with"));
        Assert.Contains(logged, line);
        Assert.Contains("milter_default_action", line);
        Assert.Contains("outcome=abandoned", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));

        await using var next = await OpenAsync(gateway);
        Assert.All(await EnvelopeAsync(next, "<alice@sender.test>", "<bob@example.test>"), r => Assert.Equal('c', r.Code));
        Assert.Single(gateway.Logs.Lines, l => l.Contains("milter session with"));
    }

    [Fact]
    public async Task The_end_of_a_message_without_an_accepted_recipient_is_a_sequence_error_and_the_transaction_goes_on()
    {
        // Postfix never sends it; a peer that does gets RFC 5321's 503, as RCPT before MAIL does, not a 451 from
        // "Local error" that the same message would meet forever.
        await using var gateway = await StartAsync();
        await using var milter = await OpenAsync(gateway);
        Assert.Equal('c', (await EnvelopeAsync(milter, "<alice@sender.test>"))[0].Code);
        await milter.SendAsync('E');
        Assert.Equal("y 503 5.5.1 Bad sequence of commands|", (await milter.ReadAsync())!.ToString());
        await milter.SendAsync('R', MilterClient.Strings("<bob@example.test>"));
        Assert.Equal('c', (await milter.ReadAsync())!.Code);
        Assert.Equal('c', (await MessageAsync(milter, "hello"))[^1].Code);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=delivered", line);
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains("outcome=tempfailed"));
    }

    [Fact]
    public async Task A_command_before_the_negotiation_ends_the_session()
    {
        await using var gateway = await StartAsync();
        await using var milter = await MilterClient.ConnectAsync(MilterEndPoint(gateway));
        await milter.SendAsync('H', MilterClient.Strings("client.test"));
        Assert.True(await milter.ClosedAsync());
        Assert.Contains("before the option negotiation", await gateway.Logs.WaitForAsync(l => l.Contains("milter session with")));
    }

    [Fact]
    public async Task An_mta_that_goes_away_mid_transaction_leaves_an_abandoned_record_and_no_open_connection()
    {
        await using var gateway = await StartAsync();
        await using (var milter = await OpenAsync(gateway))
        {
            await EnvelopeAsync(milter, "<alice@sender.test>", "<bob@example.test>");
            await milter.SendAsync('L', MilterClient.Strings("Subject", " half a message"));
        }
        Assert.Contains("without quitting", await gateway.Logs.WaitForAsync(l => l.Contains("milter session with")));
        Assert.Contains("outcome=abandoned", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));
        await gateway.Logs.WaitForAsync(l => l.StartsWith("session end", StringComparison.Ordinal) || l.Contains("session end id="));
    }

    [Fact]
    public async Task An_mta_silent_past_the_command_timeout_is_disconnected()
    {
        await using var gateway = await StartAsync("listen: [\"127.0.0.1:0\"], command_timeout: 1s");
        await using var milter = await OpenAsync(gateway);
        Assert.True(await milter.ClosedAsync());
        Assert.Contains("no packet from the MTA for 00:00:01", await gateway.Logs.WaitForAsync(l => l.Contains("milter session with")));
    }

    [Fact]
    public async Task Stopping_lets_a_transaction_in_progress_finish_and_closes_idle_sessions()
    {
        await using var gateway = await StartAsync();
        await using var idle = await OpenAsync(gateway);
        await using var busy = await OpenAsync(gateway);
        await EnvelopeAsync(busy, "<alice@sender.test>", "<bob@example.test>");

        var stopped = gateway.Server.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(await idle.ClosedAsync());
        Assert.Equal('c', (await MessageAsync(busy, "hello"))[^1].Code);
        Assert.True(await busy.ClosedAsync());
        await stopped;
        Assert.Contains("outcome=delivered", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));
    }

    public void Dispose() => _dns.Dispose();
}
