using Gateway.Forwarding;

namespace Gateway.Quarantine;

/// <summary>The envelope a release presents upstream: the one the client gave, parameters included.</summary>
public static class QuarantineRelease
{
    /// <returns>null when the stored envelope cannot be used (a damaged entry).</returns>
    public static Envelope? EnvelopeOf(QuarantineEntry entry)
    {
        if (SmtpPath.TryParse($"<{entry.MailFrom}>", allowNull: true, allowBarePostmaster: false, out var sender, out _) is not null)
            return null;
        var recipients = new List<SmtpPath>();
        foreach (var rcpt in entry.RcptTo)
        {
            if (SmtpPath.TryParse($"<{rcpt}>", false, true, out var path, out _) is null)
                recipients.Add(path);
        }
        if (recipients.Count == 0)
            return null;
        // SMTPUTF8 and BODY=8BITMIME go upstream as they came; SIZE is the upstream client's to compute from the bytes.
        return new Envelope(entry.Id, sender, recipients, Utf8: entry.Utf8, EightBit: entry.EightBit);
    }

    /// <summary>The one line a release adds above the stored bytes.</summary>
    public static string TraceHeader(QuarantineEntry entry, DateTimeOffset now) => $"X-Gateway-Released: {entry.Id}; {now:R}\r\n";
}
