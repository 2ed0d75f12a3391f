using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Gateway.Session;

/// <summary>The commands the engine knows; everything else is <see cref="Unknown"/>.</summary>
public enum SmtpVerb : byte
{
    Unknown,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    StartTls,
    Vrfy,
    Proxy,

    /// <summary>Known, never offered (EXPN, HELP, AUTH, TURN...): 502.</summary>
    NotImplemented,

    /// <summary>A line with control characters or invalid UTF-8: refused before anything reads it.</summary>
    Invalid,
}

/// <summary>
/// One command line, parsed: its verb and the text after the first space (decoded only for the verbs that read it).
/// Parsed from the bytes of the line, so that the common commands cost no string but their argument.
/// </summary>
public readonly record struct SmtpCommand(SmtpVerb Verb, string Name, string Argument)
{
    /// <summary>The verb and its argument are separated by one space; the argument may hold anything but CR and LF.</summary>
    public static SmtpCommand Parse(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b < (byte)' ' && b != (byte)'\t' || b == 127)
                return new(SmtpVerb.Invalid, "", "");
        }
        if (!Utf8.IsValid(line))
            return new(SmtpVerb.Invalid, "", "");
        var space = line.IndexOf((byte)' ');
        var verbBytes = space < 0 ? line : line[..space];
        var rest = space < 0 ? [] : line[(space + 1)..];
        var (verb, name) = Lookup(verbBytes);
        var argument = verb switch
        {
            SmtpVerb.Noop or SmtpVerb.Vrfy or SmtpVerb.NotImplemented or SmtpVerb.Unknown => "",
            SmtpVerb.Data or SmtpVerb.Rset or SmtpVerb.Quit or SmtpVerb.StartTls => IsBlank(rest) ? "" : Encoding.UTF8.GetString(rest),
            _ => Encoding.UTF8.GetString(rest),
        };
        return new(verb, name, argument);
    }

    public static SmtpCommand Parse(in ReadOnlySequence<byte> line) =>
        line.IsSingleSegment ? Parse(line.FirstSpan) : Parse((ReadOnlySpan<byte>)line.ToArray());

    private static bool IsBlank(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (b is not ((byte)' ' or (byte)'\t'))
                return false;
        }
        return true;
    }

    private static (SmtpVerb, string) Lookup(ReadOnlySpan<byte> verb)
    {
        if (verb.Length is < 4 or > 8)
            return (SmtpVerb.Unknown, "");
        Span<byte> upper = stackalloc byte[verb.Length];
        for (var i = 0; i < verb.Length; i++)
            upper[i] = verb[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(verb[i] - 32) : verb[i];
        return upper switch
        {
            _ when upper.SequenceEqual("MAIL"u8) => (SmtpVerb.Mail, "MAIL"),
            _ when upper.SequenceEqual("RCPT"u8) => (SmtpVerb.Rcpt, "RCPT"),
            _ when upper.SequenceEqual("DATA"u8) => (SmtpVerb.Data, "DATA"),
            _ when upper.SequenceEqual("EHLO"u8) => (SmtpVerb.Ehlo, "EHLO"),
            _ when upper.SequenceEqual("HELO"u8) => (SmtpVerb.Helo, "HELO"),
            _ when upper.SequenceEqual("QUIT"u8) => (SmtpVerb.Quit, "QUIT"),
            _ when upper.SequenceEqual("RSET"u8) => (SmtpVerb.Rset, "RSET"),
            _ when upper.SequenceEqual("NOOP"u8) => (SmtpVerb.Noop, "NOOP"),
            _ when upper.SequenceEqual("BDAT"u8) => (SmtpVerb.Bdat, "BDAT"),
            _ when upper.SequenceEqual("STARTTLS"u8) => (SmtpVerb.StartTls, "STARTTLS"),
            _ when upper.SequenceEqual("VRFY"u8) => (SmtpVerb.Vrfy, "VRFY"),
            _ when upper.SequenceEqual("PROXY"u8) => (SmtpVerb.Proxy, "PROXY"),
            _ when upper.SequenceEqual("EXPN"u8) || upper.SequenceEqual("HELP"u8) || upper.SequenceEqual("TURN"u8) || upper.SequenceEqual("ETRN"u8)
                || upper.SequenceEqual("AUTH"u8) || upper.SequenceEqual("ATRN"u8) || upper.SequenceEqual("XCLIENT"u8) || upper.SequenceEqual("XFORWARD"u8)
                || upper.SequenceEqual("SEND"u8) || upper.SequenceEqual("SOML"u8) || upper.SequenceEqual("SAML"u8) => (SmtpVerb.NotImplemented, Encoding.ASCII.GetString(upper)),
            _ => (SmtpVerb.Unknown, ""),
        };
    }
}
