namespace Gateway.Session;

/// <summary>Where a session stands in the SMTP dialogue (RFC 5321 section 4.1.4, RFC 3030 for BDAT).</summary>
public enum SmtpState : byte
{
    /// <summary>Greeted, no HELO or EHLO yet.</summary>
    Initial,

    /// <summary>After HELO or EHLO (or RSET, or the end of a transaction): MAIL may start one.</summary>
    Ready,

    /// <summary>After an accepted MAIL, before an accepted RCPT.</summary>
    Mail,

    /// <summary>At least one recipient accepted: DATA or BDAT may follow.</summary>
    Rcpt,

    /// <summary>Between the first BDAT and BDAT LAST.</summary>
    Chunking,
}

/// <summary>
/// Which commands each state allows (as SmtpServer's <c>StateMachine/SmtpStateTable.cs</c> lays it out); a command a
/// state does not allow gets 503 5.5.1. Commands that are refused or answered the same in every state (unknown, not
/// implemented, VRFY, NOOP, QUIT) are not in the table.
/// </summary>
public static class SmtpStateTable
{
    public static bool Allows(SmtpState state, SmtpVerb verb) => (state, verb) switch
    {
        (_, SmtpVerb.Rset or SmtpVerb.Quit or SmtpVerb.Noop) => true,
        // RFC 3030: between BDAT chunks only BDAT (and RSET, QUIT, NOOP) may come.
        (SmtpState.Chunking, SmtpVerb.Bdat) => true,
        (SmtpState.Chunking, _) => false,
        (_, SmtpVerb.Helo or SmtpVerb.Ehlo) => true,
        (SmtpState.Ready, SmtpVerb.Mail or SmtpVerb.StartTls) => true,
        (SmtpState.Mail or SmtpState.Rcpt, SmtpVerb.Rcpt) => true,
        (SmtpState.Rcpt, SmtpVerb.Data or SmtpVerb.Bdat) => true,
        _ => false,
    };
}
