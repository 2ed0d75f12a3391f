using System.Globalization;
using System.Security.Authentication;

namespace Gateway.Forwarding;

/// <summary>The Received header the gateway prepends (RFC 5321 section 4.4), with the TLS version and cipher when TLS was used.</summary>
public static class ReceivedHeader
{
    public static string For(SessionState session, Envelope envelope, DateTimeOffset now)
    {
        var helo = session.Helo ?? "unknown";
        var protocol = (session.Extended, session.TlsProtocol != SslProtocols.None, envelope.Utf8) switch
        {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "UTF8SMTP",
            (true, true, true) => "UTF8SMTPS",
        };
        var tls = session.TlsProtocol == SslProtocols.None ? "" : $" ({TlsName(session.TlsProtocol)}:{session.TlsCipher})";
        var forClause = envelope.Recipients.Count == 1 ? $"\r\n\tfor {envelope.Recipients[0]}" : "";
        var date = now.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + now.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal);
        return $"Received: from {helo} ([{session.Remote.Address}])\r\n\tby {session.Config.Server.Hostname} with {protocol}{tls}\r\n\tid {envelope.TransactionId}{forClause}; {date}\r\n";
    }

    private static string TlsName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls12 => "TLSv1.2",
        SslProtocols.Tls13 => "TLSv1.3",
        _ => protocol.ToString(),
    };
}
