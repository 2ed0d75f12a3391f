using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.Tracking;

namespace Gateway.Tests.EndToEnd;

public class TrackingTests
{
    private const string Rules = """
        rules:
          - id: hold-invoices
            match: { subject: { regex: invoice } }
            action: quarantine
          - id: no-lottery
            match: { subject: { regex: lottery } }
            action: reject
            reply: "554 5.7.1 No lotteries here"
        """;

    private static Task<GatewayHost> StartAsync(FakeUpstream upstream, string extra = "") => GatewayHost.StartAsync(
        $"rules:\n  files: [\"r.yaml\"]\nquarantine:\n  directory: quarantine\ntracking:\n  path: tracking.db\n{extra}", upstream,
        prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "r.yaml"), Rules));

    private static (int Exit, string Out, string Err) Cli(params string[] args) => CliRunner.Invoke(args);

    [Fact]
    public async Task Delivered_refused_at_rcpt_refused_at_data_and_quarantined_transactions_are_found_with_each_recipients_reply()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            // Delivered to one recipient; another refused at RCPT in the same transaction.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("554 5.7.1", await c.CommandAsync("RCPT TO:<eve@elsewhere.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("From: alice@sender.test\r\nSubject: Hello\r\n\r\nhi\r\n."));
            // Refused at the end of DATA by a rule.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<mallory@evil.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.Equal("554 5.7.1 No lotteries here", await c.CommandAsync("From: m@evil.test\r\nSubject: You won the lottery\r\n\r\nclaim\r\n."));
            // Quarantined.
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<carol@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<dave@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.Equal("250 2.0.0 Ok: held for review", await c.CommandAsync("From: carol@sender.test\r\nSubject: Your invoice\r\n\r\npay\r\n."));
        }
        // Every recipient refused at RCPT, then the client leaves. (Today the front end records such a transaction
        // when the session ends; one ended by RSET or a new MAIL is the session engine's to record.)
        var (c2, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c2)
        {
            Assert.StartsWith("250", await c2.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c2.CommandAsync("MAIL FROM:<mallory@evil.test>"));
            Assert.StartsWith("554 5.7.1", await c2.CommandAsync("RCPT TO:<victim@elsewhere.test>"));
            Assert.StartsWith("221", await c2.CommandAsync("QUIT"));
        }
        var delivered = await probe.WaitForAsync(r => r.Sender == "alice@sender.test");
        var refusedAtRcpt = await probe.WaitForAsync(r => r.Sender == "mallory@evil.test" && r.Recipients.All(x => !x.Accepted));
        var refusedAtData = await probe.WaitForAsync(r => r.Sender == "mallory@evil.test" && r.Recipients.Any(x => x.Accepted));
        var quarantined = await probe.WaitForAsync(r => r.Sender == "carol@sender.test");
        await gateway.Server.Tracking.Writer!.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var config = Path.Combine(gateway.Directory, "gateway.yaml");
        var (exit, json, errors) = Cli("track", "--json", "--config", config);
        Assert.True(exit == 0, errors);
        var found = JsonSerializer.Deserialize<List<TrackedTransaction>>(json, TrackedTransaction.Json)!.ToDictionary(t => t.Id);
        Assert.Equal(4, found.Count);

        var d = found[delivered.Id];
        Assert.Equal(("delivered", "upstream", "mx.test.example"), (d.Outcome, d.DecidedBy, d.Gateway));
        Assert.Equal(["bob@example.test 250 delivered", "eve@elsewhere.test 554 rejected"],
            d.Recipients.Select(r => $"{r.Address} {r.Reply[..3]} {r.Outcome}").Order());
        Assert.Contains("accepted", d.Upstream);

        var r1 = found[refusedAtRcpt.Id];
        Assert.Equal("rejected", r1.Outcome);
        Assert.Equal("554 5.7.1 Relay access denied", Assert.Single(r1.Recipients).Reply);

        var r2 = found[refusedAtData.Id];
        Assert.Equal(("rejected", "rule:no-lottery", "554 5.7.1 No lotteries here"), (r2.Outcome, r2.DecidedBy, r2.Reply));
        Assert.Equal("554 5.7.1 No lotteries here", Assert.Single(r2.Recipients).Reply);
        Assert.Contains(r2.Evidence, e => e.Source == "rule:no-lottery" && e.Verdict == "reject");

        var q = found[quarantined.Id];
        Assert.Equal(("quarantined", "rule:hold-invoices", quarantined.Id), (q.Outcome, q.DecidedBy, q.QuarantineId));

        var (_, table, _) = Cli("track", "--from", "mallory@", "--outcome", "rejected", "--config", config);
        Assert.Equal(3, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the heading and two rows
        Assert.Contains($"{refusedAtData.Id}", table);
        var (_, quarantinedOnly, _) = Cli("track", "--outcome", "quarantined", "--to", "DAVE@example.test", "--config", config);
        Assert.Contains(quarantined.Id, quarantinedOnly);
        Assert.DoesNotContain(delivered.Id, quarantinedOnly);

        var (idExit, shown, _) = Cli("track", "--id", refusedAtData.Id, "--config", config);
        Assert.Equal(0, idExit);
        Assert.Contains("<bob@example.test> accepted -> rejected: 554 5.7.1 No lotteries here", shown);
        Assert.Contains("rule:no-lottery", shown);
        Assert.Contains("evidence", shown);
        var (missing, _, notFound) = Cli("track", "--id", "NOSUCH.1", "--config", config);
        Assert.Equal(1, missing);
        Assert.Contains("no transaction 'NOSUCH.1'", notFound);
    }

    [Fact]
    public async Task A_sender_refused_at_mail_is_recorded_under_the_id_its_refusal_names()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream, "pipeline:\n  mail_from: [{ type: rate_limit, name: msg-rate, key: sender, limit: 1, window: 1h }]\n");
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<busy@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RSET"));
            Assert.StartsWith("4", await c.CommandAsync("MAIL FROM:<busy@sender.test>"));
        }
        var id = c.LastRef!;
        var record = await probe.WaitForAsync(r => r.Id == id);
        Assert.Equal((TransactionOutcome.Tempfailed, "msg-rate"), (record.Outcome, record.DecidedBy));
        await gateway.Server.Tracking.Writer!.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var (exit, json, errors) = Cli("track", "--json", "--id", id, "--config", Path.Combine(gateway.Directory, "gateway.yaml"));
        Assert.True(exit == 0, errors);
        Assert.Equal(id, JsonSerializer.Deserialize<TrackedTransaction>(json, TrackedTransaction.Json)!.Id);
    }

    [Fact]
    public async Task The_ref_in_a_refusal_finds_its_transaction_with_gateway_track()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        string atRcpt, atData;
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<mallory@evil.test>"));
            Assert.StartsWith("554 5.7.1 Relay access denied", await c.CommandAsync("RCPT TO:<eve@elsewhere.test>"));
            atRcpt = c.LastRef!;
            Assert.EndsWith($" [ref {atRcpt}]", c.LastRaw);
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.Equal("554 5.7.1 No lotteries here", await c.CommandAsync("From: m@evil.test\r\nSubject: You won the lottery\r\n\r\nclaim\r\n."));
            atData = c.LastRef!;
            // A syntax error answers the client software: no reference.
            Assert.StartsWith("501", await c.CommandAsync("MAIL FROM:nobody"));
            Assert.Null(c.LastRef);
        }
        // Within a transaction, every refusal names that transaction: the id of the log line and the tracking store.
        Assert.Equal(atRcpt, atData);
        var record = await probe.WaitForAsync(r => r.Sender == "mallory@evil.test");
        Assert.Equal(record.Id, atData);
        Assert.StartsWith(record.SessionId + ".", atData);
        await gateway.Server.Tracking.Writer!.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var config = Path.Combine(gateway.Directory, "gateway.yaml");
        var (exit, json, errors) = Cli("track", "--json", "--id", atData, "--config", config);
        Assert.True(exit == 0, errors);
        var found = JsonSerializer.Deserialize<TrackedTransaction>(json, TrackedTransaction.Json)!; // one match: the transaction itself
        Assert.Equal((atData, "rejected", "rule:no-lottery"), (found.Id, found.Outcome, found.DecidedBy));
        // The session id (what a refusal before MAIL names) finds the session's transactions.
        (exit, json, errors) = Cli("track", "--json", "--id", record.SessionId, "--config", config);
        Assert.True(exit == 0, errors);
        Assert.Equal(atData, JsonSerializer.Deserialize<TrackedTransaction>(json, TrackedTransaction.Json)!.Id);
    }

    [Fact]
    public async Task A_released_SMTPUTF8_message_arrives_with_its_envelope_and_the_release_is_logged_with_who_did_it()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<josé@sender.test> SMTPUTF8 BODY=8BITMIME"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bøb@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.Equal("250 2.0.0 Ok: held for review", await c.CommandAsync("From: josé@sender.test\r\nSubject: Invoice für Sie\r\n\r\nGrüße\r\n."));
        }
        var record = await probe.WaitForAsync(r => r.QuarantineId is not null);
        var config = Path.Combine(gateway.Directory, "gateway.yaml");

        var (_, list, _) = Cli("quarantine", "list", "--subject", "FÜR", "--config", config);
        Assert.Contains(record.Id, list);
        Assert.Contains("reason \"rule:hold-invoices", list);
        var (_, none, _) = Cli("quarantine", "list", "--reason", "dmarc", "--config", config);
        Assert.DoesNotContain(record.Id, none);

        // The envelope is kept whole, SMTPUTF8 and BODY=8BITMIME included.
        var (_, shown, _) = Cli("quarantine", "show", record.Id, "--config", config);
        Assert.Contains("from      <josé@sender.test> SMTPUTF8 BODY=8BITMIME", shown);
        var entry = await Quarantine.QuarantineStores.For(gateway.Config).FindAsync(record.Id, CancellationToken.None);
        Assert.Equal((true, true), (Quarantine.QuarantineRelease.EnvelopeOf(entry!)!.Utf8, Quarantine.QuarantineRelease.EnvelopeOf(entry!)!.EightBit));

        var (exit, output, log) = Cli("quarantine", "release", record.Id, "--by", "helpdesk-anna", "--config", config);
        Assert.True(exit == 0, output + log);
        Assert.Contains("by=helpdesk-anna", log);
        Assert.Contains("released", output);
        var message = Assert.Single(upstream.Messages);
        Assert.Equal("josé@sender.test", message.MailFrom);
        Assert.Equal(["bøb@example.test"], message.RcptTo);
        // The last MAIL upstream is the release's (realtime relay opened, then reset, one at RCPT before the quarantine).
        var mail = upstream.EnvelopeCommands.Last(l => l.StartsWith("MAIL", StringComparison.Ordinal));
        Assert.Contains(" SMTPUTF8", mail);
        Assert.Contains(" BODY=8BITMIME", mail);
        Assert.Contains("Subject: Invoice für Sie", message.Text);

        var (_, trail, _) = Cli("quarantine", "log", record.Id, "--config", config);
        Assert.Contains($"{record.Id}  release by helpdesk-anna: released: 250", trail);
        var (gone, _, _) = Cli("quarantine", "show", record.Id, "--config", config);
        Assert.Equal(1, gone);
        var (deleteExit, _, _) = Cli("quarantine", "delete", record.Id, "--config", config);
        Assert.Equal(1, deleteExit); // already released: nothing to delete
    }
}
