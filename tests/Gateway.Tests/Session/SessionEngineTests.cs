using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Session;

/// <summary>The transport-neutral engine, driven as <c>gateway explain</c> drives it: commands in, replies out.</summary>
public sealed class SessionEngineTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly GatewayConfig Config = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }", "t.yaml", Path.GetTempPath()).Config!;

    /// <summary>A data filter that changes one header field and deletes another.</summary>
    private sealed class EditingFilter : IFilter
    {
        public IReadOnlySet<Phase> Phases { get; } = new HashSet<Phase> { Phase.Data };

        public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new Verdict(VerdictKind.Continue, "editor", Headers: [HeaderEdit.Change("X-Mailer", "scrubbed"), HeaderEdit.Delete("X-Tracking"), HeaderEdit.Add("X-Checked", "yes")]));
    }

    private SessionEngine Engine(FilterPipeline? pipeline = null)
    {
        var connection = new Connection("T", Config, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 1000), new IPEndPoint(IPAddress.Loopback, 25), pipeline)
        {
            Upstream = new Gateway.Forwarding.DirectoryUpstream(_dir.Path),
        };
        return new SessionEngine(connection, new MessageDelivery(NullLogger.Instance, CancellationToken.None), NullLogger.Instance);
    }

    private static Task<SessionResponse> Say(SessionEngine engine, string line) =>
        engine.ExecuteAsync(SmtpCommand.Parse(Encoding.UTF8.GetBytes(line)), CancellationToken.None).AsTask();

    /// <summary>MAIL, RCPT and DATA of one message from a@sender.test to bob@example.test, each accepted.</summary>
    private static async Task StartMessageAsync(SessionEngine engine)
    {
        Assert.Equal(250, (await Say(engine, "MAIL FROM:<a@sender.test>")).Reply!.Code);
        Assert.Equal(250, (await Say(engine, "RCPT TO:<bob@example.test>")).Reply!.Code);
        Assert.Equal(SessionNext.Data, (await Say(engine, "DATA")).Next);
    }

    /// <summary>A data filter that looks at the message every way a content filter can, and keeps what it saw.</summary>
    private sealed class ProbeFilter : IFilter
    {
        public IReadOnlySet<Phase> Phases { get; } = new HashSet<Phase> { Phase.Data };

        public List<object> Seen { get; } = [];

        public string? Html { get; private set; }

        public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
        {
            Seen.Add(context.ParsedMessage());
            Seen.Add(context.Session.ParsedMessage());
            Assert.Same(context.ParsedMessage().Headers, context.Headers);
            using (var reader = Assert.Single(context.View!.HtmlDocuments).OpenText())
                Html = reader.ReadToEnd(); // read in place: the spool is open while the transaction lasts
            return ValueTask.FromResult(Verdict.Continue("probe"));
        }
    }

    [Fact]
    public async Task A_transaction_keeps_the_first_thousand_refused_recipients_and_counts_the_rest_in_its_log_line()
    {
        var engine = Engine();
        Assert.Equal(250, (await Say(engine, "EHLO client.test")).Reply!.Code);
        Assert.Equal(250, (await Say(engine, "MAIL FROM:<a@sender.test>")).Reply!.Code);
        for (var i = 0; i < Transaction.MaxRefusedKept + 5; i++)
            Assert.Equal(554, (await Say(engine, $"RCPT TO:<user{i}@elsewhere.test>")).Reply!.Code);
        var transaction = engine.Connection.Transaction!;
        Assert.Equal(Transaction.MaxRefusedKept, transaction.RefusedRecipients.Count);
        Assert.Equal(5, transaction.RefusedNotKept);

        var record = Gateway.Tracking.TransactionRecords.From(engine.Connection, transaction, 0, Reply.Abandoned, "", "relay");
        var line = Gateway.Logging.TransactionLogEntry.Format(record);
        Assert.Contains("<user999@elsewhere.test> 554 5.7.1 by relay; and 5 more\"", line);
        Assert.DoesNotContain("user1000@", line);
    }

    [Fact]
    public async Task The_message_is_parsed_once_per_transaction_and_every_content_filter_reads_that_parse()
    {
        var first = new ProbeFilter();
        var second = new ProbeFilter();
        var pipeline = new FilterPipeline(new Dictionary<Phase, IReadOnlyList<FilterSlot>>
        {
            [Phase.Data] = [new FilterSlot("a", first, OnError.Tempfail, TimeSpan.FromSeconds(5)), new FilterSlot("b", second, OnError.Tempfail, TimeSpan.FromSeconds(5))],
        }, NullLogger.Instance);
        var engine = Engine(pipeline);
        Assert.Equal(250, (await Say(engine, "EHLO client.test")).Reply!.Code);
        await StartMessageAsync(engine);
        var spool = new MessageSpool();
        spool.Write("Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n"u8);
        var end = await engine.EndOfMessageAsync(spool, null, CancellationToken.None);

        Assert.Equal(250, end.Reply!.Code);
        var parse = first.Seen[0];
        Assert.All(first.Seen.Concat(second.Seen), seen => Assert.Same(parse, seen));
        Assert.Contains("<p>hello</p>", second.Html);
        // The next transaction parses its own message.
        await StartMessageAsync(engine);
        var again = new MessageSpool();
        again.Write("Subject: again\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>bye</p>\r\n"u8);
        Assert.Equal(250, (await engine.EndOfMessageAsync(again, null, CancellationToken.None)).Reply!.Code);
        Assert.NotSame(parse, first.Seen[^1]);
        Assert.Contains("<p>bye</p>", second.Html);
    }

    [Fact]
    public async Task Header_edits_change_delete_and_add_fields_of_the_forwarded_message()
    {
        var pipeline = new FilterPipeline(new Dictionary<Phase, IReadOnlyList<FilterSlot>>
        {
            [Phase.Data] = [new FilterSlot("editor", new EditingFilter(), OnError.Tempfail, TimeSpan.FromSeconds(5))],
        }, NullLogger.Instance);
        var engine = Engine(pipeline);
        Assert.Equal(250, (await Say(engine, "EHLO client.test")).Reply!.Code);
        await StartMessageAsync(engine);
        var spool = new MessageSpool();
        spool.Write("X-Mailer: Spammer 1.0\r\nX-Tracking: 12345\r\nSubject: hi\r\n\r\nbody\r\n"u8);
        var end = await engine.EndOfMessageAsync(spool, null, CancellationToken.None);

        Assert.Equal(250, end.Reply!.Code);
        var delivered = File.ReadAllText(Assert.Single(Directory.GetFiles(_dir.Path, "*.eml")));
        Assert.Contains("X-Mailer: scrubbed\r\n", delivered);
        Assert.Contains("X-Checked: yes\r\n", delivered);
        Assert.DoesNotContain("Spammer", delivered);
        Assert.DoesNotContain("X-Tracking", delivered);
        Assert.EndsWith("Subject: hi\r\n\r\nbody\r\n", delivered);
    }

    [Theory]
    [InlineData("MAIL FROM:<a@sender.test>", 503)] // before EHLO
    [InlineData("RCPT TO:<bob@example.test>", 503)]
    [InlineData("DATA", 503)]
    [InlineData("BDAT 10 LAST", 503)]
    [InlineData("NOOP", 250)]
    [InlineData("RSET", 250)]
    [InlineData("VRFY bob", 252)]
    [InlineData("AUTH PLAIN x", 502)]
    [InlineData("HACK", 500)]
    [InlineData("QUIT", 221)]
    public async Task Before_helo_the_state_table_allows_only_what_RFC_5321_allows(string line, int code)
    {
        var engine = Engine();
        engine = new SessionEngine(engine.Connection, new MessageDelivery(NullLogger.Instance, default), NullLogger.Instance) { Chunking = true };
        Assert.Equal(code, (await Say(engine, line)).Reply!.Code);
    }

    [Theory]
    [InlineData("mail from:<a@sender.test>", SmtpVerb.Mail, "from:<a@sender.test>")]
    [InlineData("StartTLS", SmtpVerb.StartTls, "")]
    [InlineData("DATA  ", SmtpVerb.Data, "")]
    [InlineData("DATA x", SmtpVerb.Data, "x")]
    [InlineData("EXPN list", SmtpVerb.NotImplemented, "")]
    [InlineData("NO\u0001OP", SmtpVerb.Invalid, "")]
    [InlineData("MAILX", SmtpVerb.Unknown, "")]
    public void Commands_are_parsed_from_the_line_bytes(string line, SmtpVerb verb, string argument)
    {
        var command = SmtpCommand.Parse(Encoding.UTF8.GetBytes(line));
        Assert.Equal(verb, command.Verb);
        Assert.Equal(argument, command.Argument);
    }

    [Fact]
    public void Invalid_utf8_is_an_invalid_command()
    {
        Assert.Equal(SmtpVerb.Invalid, SmtpCommand.Parse((ReadOnlySpan<byte>)[(byte)'N', (byte)'O', (byte)'O', (byte)'P', (byte)' ', 0xC3]).Verb);
    }
}
