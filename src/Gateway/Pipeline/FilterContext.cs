using Gateway.Smtp;

namespace Gateway.Pipeline;

/// <summary>What a filter may look at: the session (client, HELO, envelope so far) and, in later phases, more.</summary>
public sealed class FilterContext(Phase phase, SessionState session)
{
    public Phase Phase { get; } = phase;

    public SessionState Session { get; } = session;

    /// <summary>In <see cref="Phase.RcptTo"/>: the recipient being decided.</summary>
    public SmtpPath? Recipient { get; init; }

    /// <summary>In <see cref="Phase.Data"/>: the message.</summary>
    public MessageSpool? Message { get; init; }
}
