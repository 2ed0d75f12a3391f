using Gateway.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

public class QuarantineTests
{
    private const string Rules = """
        rules:
          - id: hold-invoices
            match: { subject: { regex: invoice } }
            action: quarantine
        """;

    private static Task<GatewayHost> StartAsync(FakeUpstream upstream, string directory = "quarantine") => GatewayHost.StartAsync(
        $"rules:\n  files: [\"r.yaml\"]\nquarantine:\n  directory: {directory}\n", upstream,
        prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "r.yaml"), Rules));

    private static async Task<string> SendAsync(GatewayHost gateway, string subject)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c, "<alice@sender.test>", "<bob@example.test>", "<carol@example.test>");
            return await c.CommandAsync($"From: alice@sender.test\r\nSubject: {subject}\r\n\r\nbody\r\n.");
        }
    }

    private static (int Exit, string Out) Cli(params string[] args)
    {
        var (exit, output, errors) = CliRunner.Invoke(args);
        return (exit, output + errors);
    }

    [Fact]
    public async Task A_quarantined_message_is_stored_durably_not_forwarded_and_can_be_released()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.Equal("250 2.0.0 Ok: held for review", await SendAsync(gateway, "Your invoice"));
        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("by=rule:hold-invoices", line);
        Assert.Contains("outcome=quarantined", line);

        var directory = Path.Combine(gateway.Directory, "quarantine");
        var eml = Assert.Single(Directory.GetFiles(directory, "*.eml"));
        var id = Path.GetFileNameWithoutExtension(eml);
        var json = File.ReadAllText(Path.Combine(directory, id + ".json"));
        Assert.Contains("\"decided_by\": \"rule:hold-invoices\"", json);
        Assert.Contains("\"carol@example.test\"", json);

        var config = Path.Combine(gateway.Directory, "gateway.yaml");
        var (listExit, list) = Cli("quarantine", "list", "--config", config);
        Assert.Equal(0, listExit);
        Assert.Contains($"{id}  ", list);
        Assert.Contains("<alice@sender.test> -> <bob@example.test>, <carol@example.test>  by rule:hold-invoices", list);
        var (_, shown) = Cli("quarantine", "show", id, "--config", config);
        Assert.Contains("Subject: Your invoice", shown);

        var (releaseExit, released) = Cli("quarantine", "release", id, "--config", config);
        Assert.True(releaseExit == 0, released);
        var message = Assert.Single(upstream.Messages);
        Assert.Equal("alice@sender.test", message.MailFrom);
        Assert.Equal(["bob@example.test", "carol@example.test"], message.RcptTo);
        Assert.False(File.Exists(eml));
        Assert.StartsWith($"X-Gateway-Released: {id}; ", message.Text);
        Assert.Contains("\r\nReceived: from client.test", message.Text);
        Assert.Contains("Subject: Your invoice", message.Text);
    }

    [Fact]
    public async Task An_unwritable_quarantine_answers_452_never_250()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream, "not-a-directory/q");
        File.WriteAllText(Path.Combine(gateway.Directory, "not-a-directory"), "a file where the directory should be");
        Assert.Equal("452 4.3.1 Insufficient system storage, try again later", await SendAsync(gateway, "invoice"));
        Assert.Empty(upstream.Messages);
        Assert.StartsWith("250", await SendAsync(gateway, "hello"));
    }

    [Fact]
    public void Quarantining_without_a_directory_is_a_configuration_error()
    {
        using var dir = new TempDirectory();
        dir.Write("r.yaml", Rules);
        var result = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [r.yaml] }\n", "g.yaml", dir.Path);
        Assert.Contains(result.Errors, e => e.Message == "rule 'hold-invoices' quarantines, but gateway.yaml has no 'quarantine.directory'" && e.Line == 2);
    }
}
