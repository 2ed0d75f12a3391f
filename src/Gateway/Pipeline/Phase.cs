namespace Gateway.Pipeline;

/// <summary>The points of an SMTP session where filters run.</summary>
public enum Phase
{
    /// <summary>A client connected (before its first command).</summary>
    Connect,

    /// <summary>HELO or EHLO.</summary>
    Helo,

    /// <summary>MAIL FROM.</summary>
    MailFrom,

    /// <summary>Each RCPT TO.</summary>
    RcptTo,

    /// <summary>End of message data, before forwarding.</summary>
    Data,
}

public static class Phases
{
    /// <summary>The names used in gateway.yaml and rule files.</summary>
    public static string Name(this Phase phase) => phase switch
    {
        Phase.Connect => "connect",
        Phase.Helo => "helo",
        Phase.MailFrom => "mail_from",
        Phase.RcptTo => "rcpt_to",
        _ => "data",
    };

    public static bool TryParse(string name, out Phase phase)
    {
        foreach (var p in Enum.GetValues<Phase>())
        {
            if (p.Name() == name)
            {
                phase = p;
                return true;
            }
        }
        phase = default;
        return false;
    }
}
