using System.Text;
using Gateway.Configuration;
using Gateway.Transports.Milter;

namespace Gateway.Tests.Transports.Milter;

/// <summary>The message rebuilt from Postfix's packets, and the end-of-message decision as modification requests.</summary>
public sealed class MilterMessageTests
{
    private static void Header(MilterMessage message, string name, string value)
    {
        var payload = Encoding.UTF8.GetBytes($"{name}\0{value}\0");
        message.Header(payload, new HeaderRequest(name, value));
    }

    private static string Text(MessageSpool spool)
    {
        using var stream = spool.OpenRead();
        return new StreamReader(stream, Encoding.UTF8).ReadToEnd();
    }

    [Fact]
    public void Headers_are_rebuilt_byte_for_byte_with_crlf_folding_and_the_body_follows_the_blank_line()
    {
        using var message = new MilterMessage(leadingSpace: true, maxSize: 1 << 20);
        Header(message, "Subject", " hello\n\tworld");
        Header(message, "X-Tab", "\tvalue");
        Header(message, "X-Empty", "");
        Header(message, "From", " Jürgen <j@example.test>");
        message.EndOfHeaders();
        message.Body("line 1\r\nline 2\r\n"u8);
        using var spool = message.TakeSpool();
        Assert.Equal("Subject: hello\r\n\tworld\r\nX-Tab:\tvalue\r\nX-Empty:\r\nFrom: Jürgen <j@example.test>\r\n\r\nline 1\r\nline 2\r\n", Text(spool));
        Assert.Equal(["Subject", "X-Tab", "X-Empty", "From"], message.Headers.Select(h => h.Name));
    }

    [Fact]
    public void Without_leading_space_one_space_is_put_back_and_a_message_past_the_limit_is_counted_not_kept()
    {
        using var message = new MilterMessage(leadingSpace: false, maxSize: 40);
        Header(message, "Subject", "hi");
        message.Body(new byte[100]);
        Assert.True(message.TooBig);
        Assert.Equal(15 + 100, message.Length);
        using var spool = message.TakeSpool();
        Assert.Equal(40, spool.Length);
        Assert.StartsWith("Subject: hi\r\n\r\n", Text(spool));
    }

    [Fact]
    public void Headers_past_the_size_limit_are_counted_not_kept_so_a_flood_of_them_cannot_grow_memory()
    {
        using var message = new MilterMessage(leadingSpace: true, maxSize: 1000);
        var value = " " + new string('a', 90);
        for (var i = 0; i < 10_000; i++)
            Header(message, "X-Flood", value);
        Assert.True(message.TooBig);
        Assert.Equal(10_000L * (7 + 1 + 91 + 2), message.Length);
        // The headers that fit in the limit (and the one that crosses it) are kept, for the edits of a message that is accepted.
        Assert.InRange(message.Headers.Count, 10, 11);
    }

    [Fact]
    public void Only_the_macros_the_session_reads_are_kept_so_a_flood_of_made_up_names_cannot_grow_memory()
    {
        var macros = new MilterMacros();
        var flood = Enumerable.Range(0, 100_000).ToDictionary(i => $"{{m{i}}}", i => "v");
        flood["{client_addr}"] = "192.0.2.7";
        flood["i"] = "4dQueue1";
        macros.Set(flood);
        Assert.Equal(2, macros.Count);
        Assert.Equal("192.0.2.7", macros.Get("{client_addr}"));
        Assert.Equal("4dQueue1", macros.Get("i"));
        Assert.Null(macros.Get("{m1}"));
        macros.Set(new Dictionary<string, string> { ["{client_addr}"] = "" });
        Assert.Null(macros.Get("{client_addr}"));
        macros.Remove("i");
        Assert.Null(macros.Get("i"));
    }

    private static GatewayConfig Config()
    {
        var result = ConfigLoader.Load("server: { hostname: mx.test.example }\nrelay: { domains: [example.test] }\nupstream: { directory: out }\n", "t.yaml", Path.GetTempPath());
        return result.Config!;
    }

    [Fact]
    public void The_decision_maps_to_deletions_last_first_a_subject_change_insertions_on_top_and_score_headers_appended()
    {
        var config = Config();
        (string, string)[] received =
        [
            ("Received", " from a"),
            ("authentication-results", " mx.test.example; spf=pass"),
            ("Subject", " Cheap\n pills"),
            ("X-Spam", " yes"),
            ("Authentication-Results", " other.example; dkim=pass"),
            ("Authentication-Results", " (comment) mx.test.example; dmarc=pass"),
            ("X-Spam", " again"),
        ];
        var decision = new DataDecision(null, "", "", "Authentication-Results: mx.test.example; spf=fail\r\n\tsmtp.mailfrom=a@b.test\r\nX-Note: kept\r\nX-Gateway-Score: 7.5\r\n")
        {
            SubjectPrefix = "[SPAM] ",
            RemovedHeaders = ["X-Spam"],
        };
        var packets = MilterEdits.For(decision, received, config, leadingSpace: true).Select(p => Encoding.UTF8.GetString(p, 4, p.Length - 4).Replace('\0', '|')).ToList();
        Assert.Equal(
        [
            "m|||\u0002X-Spam||",
            "m|||\u0003Authentication-Results||",
            "m|||\u0001X-Spam||",
            "m|||\u0001authentication-results||", // named as the MTA sent it (it matches names case-insensitively)
            "m|||\u0001Subject| [SPAM] Cheap\n pills|",
            "i||||Authentication-Results| mx.test.example; spf=fail\n\tsmtp.mailfrom=a@b.test|",
            "i|||\u0001X-Note| kept|",
            "h" + "X-Gateway-Score| 7.5|",
        ], packets);
    }

    [Fact]
    public void A_subject_prefix_without_a_subject_adds_one()
    {
        var decision = new DataDecision(null, "", "", "") { SubjectPrefix = "[SPAM] " };
        var packet = Assert.Single(MilterEdits.For(decision, [("From", " a@b.test")], Config(), leadingSpace: false));
        Assert.Equal("hSubject|[SPAM]|", Encoding.UTF8.GetString(packet, 4, packet.Length - 4).Replace('\0', '|'));
    }
}
