using Gateway.Tests.Detection;
using Gateway.Tests.Support;
using MimeKit;

namespace Gateway.Tests.EndToEnd;

/// <summary>The antivirus filter over SMTP, against a real private clamd: refusals name the signature, nothing reaches the upstream.</summary>
[Collection(ClamdCollection.Name)]
public sealed class AntivirusTests(ClamdFixture clamd)
{
    private static string Pipeline(string clamdAddress, string options = "") =>
        $"pipeline:\n  data:\n    - {{ type: antivirus, clamd: \"{clamdAddress}\"{options} }}\n";

    /// <summary>A message with one attachment, in the transfer encoding given, as CRLF text.</summary>
    private static string WithAttachment(string name, byte[] content, ContentEncoding encoding, string subject = "the file you asked for")
    {
        var message = Mail.Message(subject);
        var body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "See the attachment.\r\n" },
            new MimePart("application", "octet-stream") { FileName = name, Content = new MimeContent(new MemoryStream(content)), ContentTransferEncoding = encoding },
        };
        message.Body = body;
        using var output = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, output);
        return System.Text.Encoding.ASCII.GetString(output.ToArray());
    }

    private static async Task<string> SendAsync(GatewayHost gateway, string message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            // Dot-stuffing: none of these messages has a line starting with a dot.
            Assert.DoesNotContain("\r\n.", message);
            return await c.CommandAsync(message.TrimEnd('\r', '\n') + "\r\n.");
        }
    }

    public static TheoryData<string, string, ContentEncoding> Infected => new()
    {
        { "plain, base64", "eicar.com", ContentEncoding.Base64 },
        { "plain, quoted-printable", "eicar.txt", ContentEncoding.QuotedPrintable },
        { "in a zip", "eicar.zip", ContentEncoding.Base64 },
        { "in a tar.gz", "eicar.tar.gz", ContentEncoding.Base64 },
        { "in a 7z", "eicar.7z", ContentEncoding.Base64 },
        { "in a rar", "eicar.rar", ContentEncoding.Base64 },
        { "in a tar.bz2", "eicar.tar.bz2", ContentEncoding.Base64 },
        { "in a tar.xz", "eicar.tar.xz", ContentEncoding.Base64 },
        { "gzipped", "eicar.com.gz", ContentEncoding.Base64 },
    };

    [Theory]
    [MemberData(nameof(Infected))]
    public async Task Eicar_is_refused_with_its_name_and_nothing_goes_upstream(string how, string name, ContentEncoding encoding)
    {
        var content = how switch
        {
            "in a zip" => Archives.Zip("eicar.com", ClamdServer.Eicar),
            "in a tar.gz" => Archives.Gzip(Archives.Tar("eicar.com", ClamdServer.Eicar)),
            "in a 7z" => Archives.With7z("7z", "eicar.com", ClamdServer.Eicar),
            "in a rar" => Archives.StoredRar("eicar.com", ClamdServer.Eicar),
            "in a tar.bz2" => Archives.With7z("bzip2", "eicar.tar", Archives.Tar("eicar.com", ClamdServer.Eicar)),
            "in a tar.xz" => Archives.With7z("xz", "eicar.tar", Archives.Tar("eicar.com", ClamdServer.Eicar)),
            "gzipped" => Archives.Gzip(ClamdServer.Eicar),
            _ => ClamdServer.Eicar,
        };
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Pipeline(clamd.Server.UnixAddress), upstream);

        Assert.Equal($"554 5.7.1 Virus found: {ClamdServer.EicarName} (antivirus)", await SendAsync(gateway, WithAttachment(name, content, encoding)));

        Assert.Empty(upstream.Messages);
        var line = await gateway.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains("outcome=rejected by=antivirus ", line);
        Assert.Contains($"symbols=\"VIRUS(10: {ClamdServer.EicarName})\"", line);
    }

    [Fact]
    public async Task A_clean_message_passes_and_a_file_of_our_own_signature_is_found_over_tcp()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Pipeline(clamd.Server.TcpAddress), upstream);

        Assert.StartsWith("250", await SendAsync(gateway, WithAttachment("notes.txt", "Nothing to see here.\r\n"u8.ToArray(), ContentEncoding.Base64)));
        var delivered = Assert.Single(upstream.Messages);
        Assert.Contains("notes.txt", delivered.Text);
        Assert.Contains("symbols=\"AV_CLEAN(0)\"", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));

        Assert.Equal($"554 5.7.1 Virus found: {ClamdServer.OwnSampleName} (antivirus)",
            await SendAsync(gateway, WithAttachment("sample.bin", ClamdServer.OwnSample, ContentEncoding.Base64)));
        Assert.Single(upstream.Messages);
    }

    [Fact]
    public async Task Action_quarantine_holds_the_message_and_action_score_lets_a_rule_decide_on_the_symbol()
    {
        await using var upstream = new FakeUpstream();
        await using (var quarantine = await GatewayHost.StartAsync(Pipeline(clamd.Server.UnixAddress, ", action: quarantine") + "quarantine:\n  directory: q\n", upstream))
        {
            Assert.Equal("250 2.0.0 Ok: held for review", await SendAsync(quarantine, WithAttachment("eicar.com", ClamdServer.Eicar, ContentEncoding.Base64)));
            Assert.Single(Directory.GetFiles(Path.Combine(quarantine.Directory, "q"), "*.eml"));
        }
        Assert.Empty(upstream.Messages);

        // Scored only: the rule engine (after the filter) sees VIRUS through the symbol condition and decides.
        await using var scored = await GatewayHost.StartAsync(
            Pipeline(clamd.Server.UnixAddress, ", action: score, score: 3") + "    - { type: rules }\nrules:\n  files: [r.yaml]\n", upstream,
            prepareDirectory: dir => File.WriteAllText(Path.Combine(dir, "r.yaml"), """
                rules:
                  - id: no-viruses
                    phase: data
                    match: { symbol: VIRUS }
                    action: reject
                    reply: "554 5.7.1 Infected mail is refused here"
                """));
        Assert.Equal("554 5.7.1 Infected mail is refused here", await SendAsync(scored, WithAttachment("eicar.com", ClamdServer.Eicar, ContentEncoding.Base64)));
        var line = await scored.Logs.WaitForAsync(l => l.Contains("transaction id="));
        Assert.Contains($"VIRUS(3: {ClamdServer.EicarName})", line);
        Assert.Contains("by=rule:no-viruses", line);
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Clamd_stopped_mid_run_gives_451_with_one_warning_and_mail_flows_again_when_it_returns()
    {
        using var own = ClamdServer.Start();
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Pipeline(own.UnixAddress), upstream);
        var clean = WithAttachment("notes.txt", "Nothing to see here.\r\n"u8.ToArray(), ContentEncoding.Base64);
        Assert.StartsWith("250", await SendAsync(gateway, clean));

        own.Stop();
        Assert.Equal("451 4.3.0 Virus scan unavailable, try again later (antivirus)", await SendAsync(gateway, clean));
        Assert.Equal("451 4.3.0 Virus scan unavailable, try again later (antivirus)", await SendAsync(gateway, WithAttachment("eicar.com", ClamdServer.Eicar, ContentEncoding.Base64)));
        Assert.Single(upstream.Messages);
        Assert.Single(gateway.Logs.Lines, l => l.StartsWith("Warning: antivirus antivirus: clamd at unix:", StringComparison.Ordinal) && l.Contains("failing: ") && l.Contains("on_error (tempfail)"));
        Assert.Contains("AV_FAIL(0: clamd at unix:", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=") && l.Contains("outcome=tempfail")));

        own.Restart();
        Assert.Equal($"554 5.7.1 Virus found: {ClamdServer.EicarName} (antivirus)", await SendAsync(gateway, WithAttachment("eicar.com", ClamdServer.Eicar, ContentEncoding.Base64)));
        Assert.StartsWith("250", await SendAsync(gateway, clean));
        Assert.Equal(2, upstream.Messages.Count);
        Assert.Single(gateway.Logs.Lines, l => l.Contains("antivirus antivirus: clamd at unix:") && l.EndsWith("answering again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_error_continue_delivers_unscanned_with_the_failure_in_the_log()
    {
        using var dir = new TempDirectory();
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync(Pipeline("unix:" + Path.Combine(dir.Path, "no-clamd.sock"), ", on_error: continue"), upstream);

        Assert.StartsWith("250", await SendAsync(gateway, WithAttachment("notes.txt", "Nothing to see here.\r\n"u8.ToArray(), ContentEncoding.Base64)));
        Assert.Single(upstream.Messages);
        Assert.Contains("AV_FAIL(0: clamd at unix:", await gateway.Logs.WaitForAsync(l => l.Contains("transaction id=")));
        Assert.Contains(gateway.Logs.Lines, l => l.StartsWith("Warning: antivirus antivirus: clamd at unix:", StringComparison.Ordinal) && l.Contains("on_error (continue)"));
    }
}
