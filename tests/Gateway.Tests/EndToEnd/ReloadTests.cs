using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>Rules change on a live gateway: a good change is followed by the next session, a broken one is refused.</summary>
public class ReloadTests
{
    private const string Blocking = """
        rules:
          - id: block-widgets
            match: { subject: { regex: widgets } }
            action: reject
            reply: "550 5.7.1 No widgets"
        """;

    private static async Task<string> SendAsync(GatewayHost gateway, string subject)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            return await c.CommandAsync($"From: a@sender.test\r\nSubject: {subject}\r\n\r\nx\r\n.");
        }
    }

    private static Task<GatewayHost> StartAsync(FakeUpstream upstream) => GatewayHost.StartAsync(
        "rules:\n  files: [\"rules/*.yaml\"]\n", upstream,
        prepareDirectory: dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "rules"));
            File.WriteAllText(Path.Combine(dir, "rules", "local.yaml"), "rules: []\n");
        });

    [Fact]
    public async Task A_changed_rule_file_is_followed_by_the_next_session()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        Assert.StartsWith("250", await SendAsync(gateway, "widgets for sale"));

        var reloaded = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded: rules=") && l.Contains("(1 rules)"));
        await File.WriteAllTextAsync(Path.Combine(gateway.Directory, "rules", "local.yaml"), Blocking);
        await reloaded;

        Assert.Equal("550 5.7.1 No widgets", await SendAsync(gateway, "widgets for sale"));
    }

    [Fact]
    public async Task A_broken_rule_file_is_refused_and_the_old_rules_keep_serving()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var first = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded") && l.Contains("(1 rules)"));
        await File.WriteAllTextAsync(Path.Combine(gateway.Directory, "rules", "local.yaml"), Blocking);
        await first;

        var refused = gateway.Logs.WaitForAsync(l => l.Contains("configuration reload refused"));
        await File.WriteAllTextAsync(Path.Combine(gateway.Directory, "rules", "local.yaml"), Blocking + "\n    colour: red\n");
        var line = await refused;
        Assert.True(line.Contains("unknown key 'rules[0].colour'"), line);

        Assert.Equal("550 5.7.1 No widgets", await SendAsync(gateway, "more widgets"));
        Assert.True(gateway.Server.Reload() is false);
    }

    [Fact]
    public async Task A_session_in_progress_keeps_the_rules_it_started_with()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var reloaded = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded") && l.Contains("(1 rules)"));
            await File.WriteAllTextAsync(Path.Combine(gateway.Directory, "rules", "local.yaml"), Blocking);
            await reloaded;
            Assert.StartsWith("250", await c.CommandAsync("From: a@sender.test\r\nSubject: widgets\r\n\r\nx\r\n."));
        }
        Assert.Equal("550 5.7.1 No widgets", await SendAsync(gateway, "widgets"));
    }

    [Fact]
    public async Task A_new_upstream_takes_the_next_message_without_a_restart()
    {
        await using var first = new FakeUpstream();
        await using var second = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(upstream: first);
        await Mail.SendAsync(gateway.Port, Mail.Message("before"));
        Assert.Single(first.Messages);

        var path = Path.Combine(gateway.Directory, "gateway.yaml");
        var reloaded = gateway.Logs.WaitForAsync(l => l.Contains("configuration reloaded"));
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace(first.HostPort, second.HostPort, StringComparison.Ordinal));
        await reloaded;

        await Mail.SendAsync(gateway.Port, Mail.Message("after"));
        Assert.Contains("Subject: after", Assert.Single(second.Messages).Text);
        Assert.Single(first.Messages);
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains("take effect only after a restart"));
    }
}
