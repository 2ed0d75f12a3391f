namespace Gateway.Core;

/// <summary>An SMTP reply the gateway sends: code, enhanced status code (RFC 3463) and text, on one line.</summary>
public sealed record Reply(int Code, string Enhanced, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;

    public override string ToString() => Enhanced.Length == 0 ? $"{Code} {Text}" : $"{Code} {Enhanced} {Text}";

    /// <summary>The transaction (or session) id this reply names as <c>[ref ID]</c>; null when it names none.</summary>
    public string? Ref { get; init; }

    /// <summary>RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, its CRLF included.</summary>
    public const int MaxLine = 512;

    /// <summary>
    /// Whether a reply of this code names what it is about: every refusal and deferral (4xx, 5xx) does, so that a
    /// sender's bounce gives a helpdesk an id to look up (<c>gateway track --id</c>), except RFC 5321's syntax and
    /// sequence errors (500-504, 555): they answer the client software's dialogue, not a decision about mail, and no
    /// transaction record holds them.
    /// </summary>
    public bool NeedsRef => Ref is null && Code is >= 400 and < 600 && Code is not (>= 500 and <= 504 or 555);

    /// <summary>
    /// This reply with <c> [ref ID]</c> after its text (when <see cref="NeedsRef"/>), the text cut so that the line
    /// stays within <see cref="MaxLine"/> octets.
    /// </summary>
    public Reply WithRef(string id)
    {
        if (!NeedsRef || id.Length == 0)
            return this;
        var suffix = $" [ref {id}]";
        // "550 5.7.1 " + text + suffix + CRLF
        var room = MaxLine - 4 - (Enhanced.Length == 0 ? 0 : System.Text.Encoding.UTF8.GetByteCount(Enhanced) + 1) - suffix.Length - 2;
        var text = Text;
        if (System.Text.Encoding.UTF8.GetByteCount(text) > room)
        {
            var cut = Math.Max(0, Math.Min(text.Length, room));
            while (cut > 0 && System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(0, cut)) > room)
                cut--;
            if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
                cut--;
            text = text[..cut];
        }
        return this with { Text = text + suffix, Ref = id };
    }

    // The gateway's own replies, in one place so that tests and documentation can refer to them.
    public static readonly Reply LineTooLong = new(500, "5.5.2", "Line too long");
    public static readonly Reply LineTooLongClosing = new(500, "5.5.2", "Line too long, closing connection");
    public static readonly Reply Unrecognized = new(500, "5.5.2", "Command not recognized");
    public static readonly Reply NotImplemented = new(502, "5.5.1", "Command not implemented");
    public static readonly Reply BadControlCharacters = new(500, "5.5.2", "Invalid characters in command");
    public static readonly Reply EarlyTalker = new(554, "5.5.0", "Protocol error: you sent data before the greeting");
    public static readonly Reply TooManyErrors = new(421, "4.7.0", "Too many errors, closing connection");
    public static readonly Reply CommandTimeout = new(421, "4.4.2", "Idle timeout, closing connection");
    public static readonly Reply DataTimeout = new(421, "4.4.2", "Timeout while reading message data, closing connection");
    public static readonly Reply SessionTimeout = new(421, "4.4.2", "Session time limit reached, closing connection");
    public static readonly Reply ClosingOnError = new(421, "4.3.0", "Local error, closing connection");
    public static readonly Reply ShuttingDown = new(421, "4.3.2", "Service shutting down, closing connection");
    public static readonly Reply TooManyConnections = new(421, "4.7.0", "Too many connections, try again later");
    public static readonly Reply TooManyConnectionsFromIp = new(421, "4.7.0", "Too many connections from your address, try again later");
    public static readonly Reply ProxyNotAllowed = new(554, "5.7.0", "PROXY header not accepted from this address");
    public static readonly Reply ProxyMalformed = new(501, "5.5.4", "Malformed PROXY header");
    public static readonly Reply MessageTooBig = new(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static readonly Reply MessageTooBigClosing = new(552, "5.3.4", "Message size exceeds fixed maximum message size, closing connection");
    public static readonly Reply BareLineEnding = new(554, "5.6.0", "Message contains bare CR, bare LF or NUL; lines must end with CRLF");
    public static readonly Reply TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly Reply RelayDenied = new(554, "5.7.1", "Relay access denied");
    public static readonly Reply UpstreamUnavailable = new(451, "4.4.1", "Upstream server unavailable, try again later");
    public static readonly Reply LocalError = new(451, "4.3.0", "Local error in processing, try again later");
    /// <summary>Not sent: stands in the log for a transaction the client left before the end of DATA.</summary>
    public static readonly Reply Abandoned = new(0, "", "(no message: the session ended before the end of DATA)");

    public static readonly Reply BadSequence = new(503, "5.5.1", "Bad sequence of commands");

    public static readonly Reply StorageError = new(452, "4.3.1", "Insufficient system storage, try again later");
}
