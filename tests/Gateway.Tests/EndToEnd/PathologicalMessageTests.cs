using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Messages built to be slow to parse: a header folded over megabytes, tens of thousands of header lines,
/// thousands of MIME parts, deep nesting. Each gets a definite answer (delivered, or 554 5.7.0 as
/// uninspectable), never a 451 after a filter's time budget runs out, which the sender would retry for days.
/// Run through the shipped data pipeline (rules, DKIM, ARC, DMARC) and the shipped rule files.
/// </summary>
public sealed class PathologicalMessageTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();

    public PathologicalMessageTests() => _dns.Txt("_dmarc.sender.test", "v=DMARC1; p=none").A("sender.test", "192.0.2.10");

    public void Dispose() => _dns.Dispose();

    private Task<GatewayHost> StartAsync(FakeUpstream upstream) => GatewayHost.StartAsync($$"""
        dns: { servers: ["{{_dns.EndPoint}}"], timeout: 2s, retries: 0 }
        limits: { max_message_size: 25MB }
        quarantine: { directory: quarantine }
        pipeline:
          data: [{ type: rules }, { type: dkim }, { type: arc }, { type: dmarc }]
        rules:
          files: ["{{Path.Combine(RepoRoot.Find(), "rules").Replace('\\', '/')}}/*.yaml"]
        """, upstream);

    private static async Task<string> SendAsync(GatewayHost gateway, string message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            return await c.CommandAsync(message + "\r\n.");
        }
    }

    private const string Envelope = "From: Alice <alice@sender.test>\r\nTo: bob@example.test\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\nMessage-ID: <p@sender.test>\r\n";

    /// <summary>The case of the issue: a 2 MB Subject folded over 30,000 lines.</summary>
    [Fact]
    public async Task A_subject_folded_over_two_megabytes_is_refused_as_uninspectable()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var subject = new StringBuilder("Subject: hello");
        while (subject.Length < 2 * 1024 * 1024)
            subject.Append("\r\n ").Append("word ", 0, 5).Append(new string('w', 60));
        var reply = await SendAsync(gateway, Envelope + subject + "\r\n\r\nbody\r\n");
        Assert.StartsWith("554 5.7.0", reply);
        Assert.Contains("header", reply);
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Forty_thousand_header_lines_are_refused_as_uninspectable()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var headers = new StringBuilder();
        for (var i = 0; i < 40_000; i++)
            headers.Append("X-Filler-").Append(i).Append(": x\r\n");
        var reply = await SendAsync(gateway, Envelope + "Subject: many\r\n" + headers + "\r\nbody\r\n");
        Assert.StartsWith("554 5.7.0", reply);
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task A_header_block_just_within_the_limits_is_delivered()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var headers = new StringBuilder();
        for (var i = 0; i < 200; i++)
            headers.Append("X-Filler-").Append(i).Append(": x\r\n");
        // Five fields just under the 100 KB limit: MimeKit's cost per field grows with its square, so these are
        // the slowest header block the limits let through.
        var big = string.Concat(Enumerable.Range(0, 5).Select(i => $"X-Big-{i}: " + string.Join("\r\n ", Enumerable.Repeat(new string('s', 70), 1300)) + "\r\n"));
        var reply = await SendAsync(gateway, Envelope + "Subject: edge\r\n" + big + headers + "\r\nbody\r\n");
        Assert.StartsWith("250 ", reply);
        Assert.Single(upstream.Messages);
    }

    [Fact]
    public async Task Thousands_of_MIME_parts_and_deep_nesting_are_refused_as_uninspectable()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var parts = new StringBuilder("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
        for (var i = 0; i < 5_000; i++)
            parts.Append("--b\r\nContent-Type: text/plain\r\n\r\npart ").Append(i).Append("\r\n");
        parts.Append("--b--\r\n");
        var many = await SendAsync(gateway, Envelope + "Subject: parts\r\n" + parts);
        Assert.StartsWith("554 5.7.0", many);
        Assert.Contains("MIME parts", many);

        var deep = new StringBuilder("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
        for (var i = 1; i < 5_000; i++)
            deep.Append($"--b{i - 1}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n");
        var nested = await SendAsync(gateway, Envelope + "Subject: deep\r\n" + deep + "--b4999--\r\n");
        Assert.StartsWith("554 5.7.0", nested);
        Assert.Empty(upstream.Messages);
    }
    private static string Folded(string name, int bytes)
    {
        var field = new StringBuilder(name + ": hello");
        while (field.Length < bytes)
            field.Append("\r\n ").Append(new string('w', 60));
        return field + "\r\n";
    }

    private static string Forwarding(string partHeaders, string embedded) =>
        Envelope + "Subject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        + "--b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        + "--b\r\n" + partHeaders + "\r\n" + embedded + "\r\n--b--\r\n";

    /// <summary>MimeKit parses a part's and an embedded message's headers as it parses the top ones: as slowly.</summary>
    [Fact]
    public async Task A_header_folded_over_megabytes_inside_a_part_or_an_embedded_message_is_refused_as_uninspectable()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var inner = "From: carol@sender.test\r\n" + Folded("Subject", 2 * 1024 * 1024) + "\r\nhello\r\n";

        var embedded = await SendAsync(gateway, Forwarding("Content-Type: message/rfc822\r\n", inner));
        Assert.StartsWith("554 5.7.0", embedded);
        Assert.Contains("embedded message", embedded);

        var base64 = Convert.ToBase64String(Encoding.ASCII.GetBytes(inner), Base64FormattingOptions.InsertLineBreaks);
        Assert.StartsWith("554 5.7.0", await SendAsync(gateway, Forwarding("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n", base64)));

        var part = await SendAsync(gateway, Forwarding("Content-Type: text/plain\r\n" + Folded("Content-Description", 2 * 1024 * 1024), "body"));
        Assert.StartsWith("554 5.7.0", part);
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task An_embedded_message_with_ordinary_folded_headers_and_an_indented_body_is_delivered()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await StartAsync(upstream);
        var received = string.Concat(Enumerable.Range(0, 20).Select(i => $"Received: from relay{i}.sender.test (relay{i}.sender.test [192.0.2.{i}])\r\n\tby mx.sender.test with ESMTPS id {i}\r\n\tfor <carol@sender.test>; Mon, 07 Dec 2026 08:00:00 +0000\r\n"));
        // A signature delimiter, then far more indented text than a header field may hold: body text, not a header.
        var indented = string.Concat(Enumerable.Repeat("    indented line of a plain text listing\r\n", 5000));
        var inner = received + "From: carol@sender.test\r\n" + Folded("Subject", 2000) + "\r\nhello\r\n-- \r\nCarol\r\n\r\nListing:\r\n" + indented;
        Assert.StartsWith("250 ", await SendAsync(gateway, Forwarding("Content-Type: message/rfc822\r\n", inner)));
        Assert.Single(upstream.Messages);
    }
}
