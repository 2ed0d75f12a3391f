using MimeKit;

namespace Gateway.Pipeline;

/// <summary>One rule's evaluation, for explain.</summary>
public sealed record RuleTrace(Phase Phase, string RuleId, bool Matched, string? Evidence, string Mode, string Action, double Score);

/// <summary>What a filter may look at: the session (client, HELO, envelope so far) and, in later phases, more.</summary>
public sealed class FilterContext(Phase phase, SessionState session)
{
    private HeaderList? _headers;
    private Mime.MessageView? _view;

    public Phase Phase { get; } = phase;

    public SessionState Session { get; } = session;

    /// <summary>In <see cref="Phase.RcptTo"/>: the recipient being decided.</summary>
    public SmtpPath? Recipient { get; init; }

    /// <summary>In <see cref="Phase.Data"/>: the message.</summary>
    public MessageSpool? Message { get; init; }

    /// <summary>Set by <c>gateway explain</c>: the rule engine records every rule it evaluates here, matched or not.</summary>
    public List<RuleTrace>? RuleTrace => Session.RuleTrace;

    /// <summary>In <see cref="Phase.Data"/>: attachments and text, parsed once under the configured limits on first use.</summary>
    public Mime.MessageView? View => _view ??= Message is null ? null
        : Shared ? Mime.MessageView.Of(Session.ParsedMessage, Session.Config.Mime, Session.Time)
        : Mime.MessageView.Parse(Message, Session.Config.Mime, Session.Time);

    /// <summary>Whether <see cref="Message"/> is the transaction's (always in a session; a unit test may give one of its own).</summary>
    private bool Shared => Message is not null && ReferenceEquals(Message, Session.Message);

    private MimeMessage? _own;

    /// <summary>
    /// In <see cref="Phase.Data"/>: the message parsed once per transaction (<see cref="Session.Transaction.ParsedMessage"/>),
    /// which every content filter reads. Throws what MimeKit throws on a message it cannot parse.
    /// </summary>
    public MimeMessage ParsedMessage()
    {
        if (Shared)
            return Session.ParsedMessage();
        if (Message is null)
            throw new InvalidOperationException("no message in this phase");
        if (_own is null)
        {
            using var stream = Message.OpenRead();
            _own = MimeMessage.Load(new ParserOptions { MaxMimeDepth = Session.Config.Mime.MaxDepth + 1 }, stream);
        }
        return _own;
    }

    /// <summary>
    /// Fetches what the rules of this phase need from DNS, side by side: the client's reverse DNS name and the
    /// transaction's authentication results. Matchers then read the finished results.
    /// </summary>
    public Task PrepareAsync(Rules.Matchers.Lookups lookups, CancellationToken cancellationToken)
    {
        if (lookups == Rules.Matchers.Lookups.None)
            return Task.CompletedTask;
        var tasks = new List<Task>();
        if (lookups.HasFlag(Rules.Matchers.Lookups.ReverseDns))
            tasks.Add(Session.ReverseDnsAsync(cancellationToken));
        var auth = Session.Authentication;
        if (lookups.HasFlag(Rules.Matchers.Lookups.Spf))
            tasks.Add(auth.SpfAsync(cancellationToken));
        if (lookups.HasFlag(Rules.Matchers.Lookups.Dkim))
            tasks.Add(auth.DkimAsync(cancellationToken));
        if (lookups.HasFlag(Rules.Matchers.Lookups.Arc))
            tasks.Add(auth.ArcAsync(cancellationToken));
        if (lookups.HasFlag(Rules.Matchers.Lookups.Dmarc))
            tasks.Add(auth.DmarcAsync(cancellationToken));
        return Task.WhenAll(tasks);
    }

    /// <summary>The view if something has asked for it.</summary>
    public Mime.MessageView? ViewIfParsed => _view;

    /// <summary>In <see cref="Phase.Data"/>: the message's header block, parsed once (MimeKit) on first use.</summary>
    public HeaderList? Headers
    {
        get
        {
            if (_headers is null && Message is not null)
            {
                try
                {
                    _headers = ParsedMessage().Headers;
                }
                catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
                {
                    // The body defeats the parser: the header block alone may still be read.
                    using var stream = Message.OpenRead();
                    _headers = HeaderList.Load(new ParserOptions { MaxMimeDepth = 8 }, stream);
                }
            }
            return _headers;
        }
    }
}
