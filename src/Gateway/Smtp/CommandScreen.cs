using System.Globalization;
using System.Net;
using Gateway.Configuration;

namespace Gateway.Smtp;

/// <summary>What to do with one command line.</summary>
public readonly record struct ScreenResult(string? PassLine, Reply? Reply, bool Close)
{
    public static ScreenResult Pass(string line) => new(line, null, false);
    public static ScreenResult Refuse(Reply reply, bool close = false) => new(null, reply, close);
    public static readonly ScreenResult Drop = new(null, null, false);
}

/// <summary>
/// Looks at every command line before SmtpServer does. It answers what SmtpServer would get wrong or should
/// never see (unknown verbs, AUTH, PROXY from untrusted clients, malformed or oversized MAIL/RCPT arguments)
/// and hands SmtpServer a canonical line for the rest. MAIL and RCPT addresses are parsed here
/// (<see cref="SmtpPath"/>) and kept in the session; SmtpServer only sees a placeholder address, so its
/// parser's quirks (un-escaping, dropped quotes) cannot change what the gateway decides or forwards.
/// </summary>
public static class CommandScreen
{
    public const string PlaceholderAddress = "placeholder@gateway.invalid";

    public static ScreenResult Screen(string line, SessionState session, bool secure)
    {
        foreach (var c in line)
        {
            if (c < ' ' && c != '\t' || c == 127)
                return ScreenResult.Refuse(Reply.BadControlCharacters);
        }
        var space = line.IndexOf(' ');
        var verb = (space < 0 ? line : line[..space]).ToUpperInvariant();
        var argument = space < 0 ? "" : line[(space + 1)..];
        session.CommandCount++;

        switch (verb)
        {
            case "PROXY":
                return Proxy(argument, session);
            case "EHLO":
            case "HELO":
                return Hello(verb, argument, session);
            case "MAIL":
                return Mail(argument, session);
            case "RCPT":
                return Rcpt(argument, session);
            case "DATA" or "RSET" or "QUIT" or "STARTTLS":
                if (argument.Trim().Length > 0)
                    return ScreenResult.Refuse(new Reply(501, "5.5.4", $"{verb} takes no argument"));
                if (verb == "STARTTLS" && (secure || session.Config.Server.Tls is null))
                    return ScreenResult.Refuse(secure ? new Reply(503, "5.5.1", "TLS already active") : Reply.NotImplemented);
                return ScreenResult.Pass(verb);
            case "NOOP":
                return ScreenResult.Pass(verb);
            case "VRFY":
                return ScreenResult.Refuse(new Reply(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery"));
            case "EXPN" or "HELP" or "TURN" or "ETRN" or "AUTH" or "BDAT" or "ATRN" or "XCLIENT" or "XFORWARD" or "SEND" or "SOML" or "SAML":
                return ScreenResult.Refuse(Reply.NotImplemented);
            default:
                return ScreenResult.Refuse(Reply.Unrecognized);
        }
    }

    private static ScreenResult Hello(string verb, string argument, SessionState session)
    {
        var name = argument.Trim();
        if (name.Length == 0 || name.Contains(' '))
            return ScreenResult.Refuse(new Reply(501, "5.5.4", $"Syntax: {verb} hostname"));
        session.Helo = SmtpPath.Printable(name);
        session.Extended = verb == "EHLO";
        return ScreenResult.Pass($"{verb} gateway.invalid");
    }

    private static ScreenResult Mail(string argument, SessionState session)
    {
        if (!argument.StartsWith("FROM:", StringComparison.OrdinalIgnoreCase))
            return ScreenResult.Refuse(new Reply(501, "5.5.4", "Syntax: MAIL FROM:<address>"));
        var error = SmtpPath.TryParse(argument[5..], allowNull: true, allowBarePostmaster: false, out var path, out var parameters);
        if (error is not null)
            return ScreenResult.Refuse(new Reply(501, "5.1.7", $"Bad sender address syntax: {error}"));
        if (parameters.TryGetValue("SIZE", out var sizeText))
        {
            if (sizeText is null || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                // Over 19 digits does not fit a long, and is certainly over any limit.
                if (sizeText is { Length: > 0 } && sizeText.All(char.IsAsciiDigit))
                    return ScreenResult.Refuse(Reply.MessageTooBig);
                return ScreenResult.Refuse(new Reply(501, "5.5.4", "Bad SIZE parameter"));
            }
            if (size > session.Config.Limits.MaxMessageSize)
                return ScreenResult.Refuse(Reply.MessageTooBig);
        }
        if (parameters.TryGetValue("BODY", out var body) && body is not null && !body.Equals("7BIT", StringComparison.OrdinalIgnoreCase) && !body.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase))
            return ScreenResult.Refuse(new Reply(501, "5.5.4", "Unsupported BODY type"));
        foreach (var key in parameters.Keys)
        {
            if (!key.Equals("SIZE", StringComparison.OrdinalIgnoreCase) && !key.Equals("BODY", StringComparison.OrdinalIgnoreCase) && !key.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase))
                return ScreenResult.Refuse(new Reply(555, "5.5.4", $"Unsupported MAIL parameter {SmtpPath.Printable(key.ToUpperInvariant())}"));
        }
        session.PendingPath = path;
        session.PendingParameters = parameters;
        return ScreenResult.Pass(path.IsNull ? "MAIL FROM:<>" : $"MAIL FROM:<{PlaceholderAddress}>");
    }

    private static ScreenResult Rcpt(string argument, SessionState session)
    {
        if (!argument.StartsWith("TO:", StringComparison.OrdinalIgnoreCase))
            return ScreenResult.Refuse(new Reply(501, "5.5.4", "Syntax: RCPT TO:<address>"));
        var error = SmtpPath.TryParse(argument[3..], allowNull: false, allowBarePostmaster: true, out var path, out var parameters);
        if (error is not null)
            return ScreenResult.Refuse(new Reply(501, "5.1.3", $"Bad recipient address syntax: {error}"));
        if (parameters.Count > 0)
            return ScreenResult.Refuse(new Reply(555, "5.5.4", $"Unsupported RCPT parameter {SmtpPath.Printable(parameters.Keys.First().ToUpperInvariant())}"));
        session.PendingPath = path;
        session.PendingParameters = parameters;
        return ScreenResult.Pass($"RCPT TO:<{PlaceholderAddress}>");
    }

    /// <summary>
    /// PROXY protocol v1 (<c>PROXY TCP4 src dst sport dport</c>), believed only as the first line from a
    /// trusted address; from anyone else it is refused and the connection closed.
    /// </summary>
    private static ScreenResult Proxy(string argument, SessionState session)
    {
        var trusted = session.Config.Server.ProxyTrusted.Any(n => n.Contains(session.Remote.Address.IsIPv4MappedToIPv6 ? session.Remote.Address.MapToIPv4() : session.Remote.Address));
        if (!trusted || session.CommandCount != 1)
            return ScreenResult.Refuse(Reply.ProxyNotAllowed, close: true);
        var parts = argument.Split(' ');
        if (parts.Length == 1 && parts[0] == "UNKNOWN")
            return ScreenResult.Drop;
        if (parts.Length != 5 || parts[0] is not ("TCP4" or "TCP6")
            || !IPAddress.TryParse(parts[1], out var source) || !IPAddress.TryParse(parts[2], out var destination)
            || !ushort.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var sourcePort)
            || !ushort.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var destinationPort))
            return ScreenResult.Refuse(Reply.ProxyMalformed, close: true);
        session.Remote = new IPEndPoint(source, sourcePort);
        session.Local = new IPEndPoint(destination, destinationPort);
        return ScreenResult.Drop;
    }
}
