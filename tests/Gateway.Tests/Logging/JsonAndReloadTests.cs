using System.Text.Json;
using Gateway.Configuration;
using Gateway.Logging;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Logging;

/// <summary>The JSON format's shape over SMTP, and logging.format and logging.level taking effect on reload.</summary>
public class JsonAndReloadTests
{
    [Fact]
    public async Task A_transaction_is_one_json_object_with_structured_recipients_and_symbols_and_readable_text()
    {
        var output = new WatchedWriter();
        using var provider = new GatewayLoggerProvider(new LoggingConfig(LogFormat.Json, LogLevel.Information), output);
        using var factory = GatewayLoggerProvider.CreateFactory(provider);
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream, loggerFactory: factory);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<alice@sender.test>"));
            Assert.StartsWith("554", await c.CommandAsync("RCPT TO:<eve@other.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<bob@example.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250", await c.CommandAsync("Subject: say \"hi\" <now>\r\nMessage-ID: <m1@sender.test>\r\n\r\nbody\r\n."));
        }
        var line = await output.WaitForAsync(l => l.Contains("\"event\":\"transaction\""));
        Assert.DoesNotContain("\\u003C", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\\u0022", line);
        Assert.DoesNotContain("OriginalFormat", line);
        Assert.Contains("\"subject\":\"say \\\"hi\\\" <now>\"", line);
        var e = JsonDocument.Parse(line).RootElement;
        Assert.Equal("info", e.GetProperty("level").GetString());
        Assert.Equal("delivered", e.GetProperty("outcome").GetString());
        Assert.Equal("<m1@sender.test>", e.GetProperty("message_id").GetString());
        var recipients = e.GetProperty("recipients").EnumerateArray().ToList();
        Assert.Equal(2, recipients.Count);
        Assert.Equal("eve@other.test", recipients[0].GetProperty("address").GetString());
        Assert.False(recipients[0].GetProperty("accepted").GetBoolean());
        Assert.Equal("rejected", recipients[0].GetProperty("outcome").GetString());
        Assert.Equal("relay", recipients[0].GetProperty("by").GetString());
        Assert.Equal("bob@example.test", recipients[1].GetProperty("address").GetString());
        Assert.Equal("delivered", recipients[1].GetProperty("outcome").GetString());
        Assert.Equal(JsonValueKind.Array, e.GetProperty("symbols").ValueKind);

        // Any other line: its fields as properties, no template.
        var other = await output.WaitForAsync(l => l.Contains("\"event\":") && l.Contains("session end"));
        var o = JsonDocument.Parse(other).RootElement;
        Assert.Equal("127.0.0.1", o.GetProperty("client").GetString());
        Assert.Equal(JsonValueKind.Number, o.GetProperty("transactions").ValueKind);
    }

    [Fact]
    public void A_symbol_is_an_object_in_json()
    {
        var record = new Gateway.Tracking.TransactionRecord
        {
            Id = "T.1", SessionId = "T", Started = DateTimeOffset.UnixEpoch, Duration = TimeSpan.FromMilliseconds(5), ClientAddress = "192.0.2.1",
            Tls = "none", Recipients = [], Outcome = Gateway.Tracking.TransactionOutcome.Rejected, DecidedBy = "rule:x",
            Reply = new Gateway.Core.Reply(550, "5.7.1", "no"), RuleSet = "abc",
            Symbols = [new Gateway.Core.Symbol("X", 2.5, "name \"a<b>.exe\"")],
        };
        var json = new JsonLogFormatter().Format(DateTimeOffset.UnixEpoch, LogLevel.Information, "gateway", TransactionLog.TransactionEvent,
            new TransactionLogEntry(record), null, (s, _) => s.ToString());
        var symbol = JsonDocument.Parse(json).RootElement.GetProperty("symbols")[0];
        Assert.Equal("X", symbol.GetProperty("name").GetString());
        Assert.Equal(2.5, symbol.GetProperty("score").GetDouble());
        Assert.Equal("name \"a<b>.exe\"", symbol.GetProperty("detail").GetString());
        Assert.Contains("a<b>.exe", json);
    }

    [Fact]
    public async Task Format_and_level_change_on_reload()
    {
        var output = new WatchedWriter();
        using var provider = new GatewayLoggerProvider(new LoggingConfig(LogFormat.Text, LogLevel.Information), output);
        using var factory = GatewayLoggerProvider.CreateFactory(provider);
        await using var gateway = await GatewayHost.StartAsync("logging:\n  format: text\n  level: info\n", loggerFactory: factory);
        provider.Follow(gateway.Server);
        var probe = factory.CreateLogger("probe");
        probe.LogDebug("debug before");
        probe.LogInformation("info before");
        await output.WaitForAsync(l => l.Contains("info before"));
        Assert.DoesNotContain(output.Lines, l => l.Contains("debug before"));

        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        File.WriteAllText(path, File.ReadAllText(path).Replace("format: text", "format: json").Replace("level: info", "level: debug"));
        Assert.True(gateway.Server.Reload());
        probe.LogDebug("debug after {Count}", 3);
        var line = await output.WaitForAsync(l => l.Contains("debug after"));
        var e = JsonDocument.Parse(line).RootElement;
        Assert.Equal("debug", e.GetProperty("level").GetString());
        Assert.Equal("debug after 3", e.GetProperty("message").GetString());
        Assert.Equal(3, e.GetProperty("count").GetInt32());
        Assert.False(e.TryGetProperty("{OriginalFormat}", out _));
    }
}
