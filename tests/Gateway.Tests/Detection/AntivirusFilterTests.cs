using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Detection.Antivirus;
using Gateway.Pipeline;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection;

/// <summary>The antivirus filter's configuration, its one scan per message, <c>explain</c> and <c>check</c>.</summary>
[Collection(ClamdCollection.Name)]
public sealed class AntivirusFilterTests(ClamdFixture clamd)
{
    private static string Eml(byte[] attachment) =>
        "From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/octet-stream; name=f.com\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + Convert.ToBase64String(attachment) + "\r\n--b--\r\n";

    [Fact]
    public async Task Explain_shows_the_verdict_and_the_signature()
    {
        using var dir = new TempDirectory();
        var config = OfflineRun.Config($"pipeline:\n  data: [{{ type: antivirus, clamd: \"{clamd.Server.UnixAddress}\" }}]\n", dir);

        var report = await OfflineRun.RunAsync(config, Gateway.Dns.NoDns.Instance, Eml(ClamdServer.Eicar));

        Assert.Equal($"554 5.7.1 Virus found: {ClamdServer.EicarName} (antivirus)", report.Reply);
        Assert.Equal("antivirus", report.DecidedBy);
        var line = Assert.Single(report.Trace, t => t.Filter == "antivirus");
        Assert.Equal([$"VIRUS(10: {ClamdServer.EicarName})"], line.Symbols);

        var clean = await OfflineRun.RunAsync(config, Gateway.Dns.NoDns.Instance, Eml("harmless"u8.ToArray()));
        Assert.Equal(["AV_CLEAN(0)"], Assert.Single(clean.Trace, t => t.Filter == "antivirus").Symbols);
    }

    [Fact]
    public async Task A_message_over_clamds_own_stream_limit_goes_on_unscanned_rather_than_deferred_at_every_retry()
    {
        using var dir = new TempDirectory();
        var config = OfflineRun.Config($"pipeline:\n  data: [{{ type: antivirus, clamd: \"{clamd.Server.UnixAddress}\" }}]\n", dir);

        var report = await OfflineRun.RunAsync(config, Gateway.Dns.NoDns.Instance, Eml(new byte[ClamdServer.StreamMaxLength + 64 * 1024]));

        Assert.Equal("forward", report.Verdict);
        Assert.Contains(Assert.Single(report.Trace, t => t.Filter == "antivirus").Symbols, s => s.StartsWith("AV_SKIPPED(0: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Readiness_follows_whether_clamd_answers()
    {
        using var dir = new TempDirectory();
        Gateway.Admin.IReadinessCheck Filter(string address) => (Gateway.Admin.IReadinessCheck)OfflineRun.Config(
            $"pipeline:\n  data: [{{ type: antivirus, clamd: \"{address}\" }}]\n", dir).Pipeline.Phases[Phase.Data][0].Filter;

        Assert.Null(await Filter(clamd.Server.UnixAddress).CheckReadinessAsync(CancellationToken.None));
        var down = Filter("unix:" + Path.Combine(dir.Path, "no-clamd.ctl"));
        Assert.StartsWith("clamd unix:", down.ReadinessName);
        Assert.NotNull(await down.CheckReadinessAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_message_is_scanned_once_however_often_it_is_asked_about()
    {
        // A stand-in for clamd that counts scans: every connection is one.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var scans = 0;
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref scans);
                var stream = client.GetStream();
                var buffer = new byte[65536];
                // Read the command and the chunks until the zero-length chunk that ends the stream.
                var received = new List<byte>();
                while (received.Count < 14 || !received.TakeLast(4).All(b => b == 0))
                {
                    var n = await stream.ReadAsync(buffer);
                    if (n == 0)
                        break;
                    received.AddRange(buffer.AsSpan(0, n).ToArray());
                }
                await stream.WriteAsync("stream: Test.Sig FOUND\0"u8.ToArray());
            }
        });
        using var dir = new TempDirectory();
        var config = OfflineRun.Config($"pipeline:\n  data: [{{ type: antivirus, clamd: \"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}\", action: score }}]\n", dir);
        var filter = config.Pipeline.Phases[Phase.Data][0].Filter;
        var session = new SessionState("T", config, new IPEndPoint(IPAddress.Loopback, 4000), new IPEndPoint(IPAddress.Loopback, 25));
        using var message = new MessageSpool();
        message.Write(Encoding.ASCII.GetBytes(Eml([1, 2, 3])));

        for (var i = 0; i < 3; i++)
        {
            var verdict = await filter.EvaluateAsync(new FilterContext(Phase.Data, session) { Message = message }, CancellationToken.None);
            Assert.Equal(new Symbol("VIRUS", 10, "Test.Sig"), Assert.Single(verdict.Symbols));
        }
        Assert.Equal(1, Volatile.Read(ref scans));

        using var next = new MessageSpool();
        next.Write("Subject: another\r\n\r\nbody\r\n"u8);
        await filter.EvaluateAsync(new FilterContext(Phase.Data, session) { Message = next }, CancellationToken.None);
        Assert.Equal(2, Volatile.Read(ref scans));
        Assert.False(serving.IsFaulted);
    }

    [Fact]
    public async Task A_message_over_max_size_is_not_sent_to_clamd_and_says_so()
    {
        using var dir = new TempDirectory();
        var config = OfflineRun.Config($"pipeline:\n  data: [{{ type: antivirus, clamd: \"{clamd.Server.UnixAddress}\", max_size: 1KB }}]\n", dir);
        var eml = Eml(ClamdServer.Eicar) + new string('x', 1024) + "\r\n";

        var report = await OfflineRun.RunAsync(config, Gateway.Dns.NoDns.Instance, eml);

        Assert.Equal("forward", report.Verdict);
        Assert.Matches(@"^AV_SKIPPED\(0: \d+ bytes, over max_size 1024\)$", Assert.Single(Assert.Single(report.Trace, t => t.Filter == "antivirus").Symbols));
    }

    [Theory]
    [InlineData("{ type: antivirus }", "the antivirus filter needs 'clamd'")]
    [InlineData("{ type: antivirus, clamd: \"/run/clamav/clamd.ctl\" }", "'clamd' must be \"unix:/path/to/clamd.ctl\" or \"host:port\"")]
    [InlineData("{ type: antivirus, clamd: \"127.0.0.1:3310\", timeout: 20s }", "'timeout' (20s) must be positive and shorter than the filter's 'budget' (10s)")]
    [InlineData("{ type: antivirus, clamd: \"127.0.0.1:3310\", action: drop }", "'pipeline.data[0].action' must be one of reject | quarantine | score")]
    [InlineData("{ type: antivirus, clamd: \"127.0.0.1:3310\", on_error: ignore }", "'pipeline.data[0].on_error' must be one of tempfail | continue")]
    [InlineData("{ type: antivirus, clamd: \"127.0.0.1:3310\", action: quarantine }", "filter 'antivirus' may quarantine, but gateway.yaml has no 'quarantine.directory'")]
    public void Configuration_errors_say_what_is_wrong(string filter, string error)
    {
        var result = ConfigLoader.Load($"relay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\npipeline:\n  data: [{filter}]\n", "g.yaml", Path.GetTempPath());
        Assert.Contains(result.Errors, e => e.Message.Contains(error, StringComparison.Ordinal));
    }

    [Fact]
    public void Antivirus_runs_only_at_data()
    {
        var result = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }\npipeline:\n  mail_from: [{ type: antivirus, clamd: \"127.0.0.1:3310\" }]\n", "g.yaml", Path.GetTempPath());
        Assert.Contains(result.Errors, e => e.Message == "filter type 'antivirus' cannot run at mail_from; it runs at data");
    }

    [Fact]
    public void Check_warns_but_passes_when_clamd_cannot_be_reached()
    {
        using var dir = new TempDirectory();
        var missing = dir.Write("missing.yaml", $"relay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\npipeline:\n  data: [{{ type: antivirus, name: av, clamd: \"unix:{dir.Path}/none.sock\" }}]\n");
        var (exit, output, errors) = CliRunner.Invoke("check", "--config", missing);
        Assert.Equal(0, exit);
        Assert.Contains(": OK", output);
        Assert.StartsWith($"warning: filter av: clamd at unix:{dir.Path}/none.sock: ", errors);

        var running = dir.Write("running.yaml", $"relay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\npipeline:\n  data: [{{ type: antivirus, clamd: \"{clamd.Server.TcpAddress}\" }}]\n");
        (exit, _, errors) = CliRunner.Invoke("check", "--config", running);
        Assert.Equal(0, exit);
        Assert.Equal("", errors);
    }

    [Fact]
    public void The_shipped_configuration_has_the_filter_commented_with_the_line_to_turn_it_on()
    {
        var shipped = File.ReadAllText(Path.Combine(RepoRoot.Find(), "gateway.yaml"));
        Assert.Contains("    # - { type: antivirus, clamd: \"unix:/run/clamav/clamd.ctl\" }\n", shipped);
        var on = shipped.Replace("    # - { type: antivirus", "    - { type: antivirus", StringComparison.Ordinal);
        var result = ConfigLoader.Load(on, Path.Combine(RepoRoot.Find(), "gateway.yaml"), RepoRoot.Find());
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Contains(result.Config!.Pipeline.Phases[Phase.Data], d => d.Filter is AntivirusFilter);
    }
}
