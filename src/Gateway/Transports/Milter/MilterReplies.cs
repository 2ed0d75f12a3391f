using System.Buffers.Binary;
using System.Text;

namespace Gateway.Transports.Milter;

/// <summary>The packets the milter sends back, built byte for byte.</summary>
public static class MilterReplies
{
    public static readonly byte[] Continue = MilterFrame.Write((byte)MilterResponse.Continue);
    public static readonly byte[] Accept = MilterFrame.Write((byte)MilterResponse.Accept);
    public static readonly byte[] Reject = MilterFrame.Write((byte)MilterResponse.Reject);
    public static readonly byte[] Tempfail = MilterFrame.Write((byte)MilterResponse.Tempfail);
    public static readonly byte[] Discard = MilterFrame.Write((byte)MilterResponse.Discard);

    /// <summary>
    /// SMFIR_REPLYCODE: our code, enhanced code and text. Postfix reads the text the way Sendmail writes it, as a
    /// format string ('%%' becomes '%', a single '%' is dropped), so every '%' is doubled; CR, LF and NUL are
    /// replaced, so that the text is one line. Only 4xx and 5xx replies can be sent this way.
    /// Postfix refuses (as a malformed reply, then applies milter_default_action to the whole session) a reply whose
    /// fifth character is a digit of another class than the code's: "451 5.7.1 ..." and "550 4 items" both are. So
    /// the enhanced code always goes out, in the reply's class: its own with the class corrected, or X.0.0.
    /// </summary>
    public static byte[] ReplyCode(Reply reply)
    {
        if (reply.Code is < 400 or > 599)
            throw new ArgumentOutOfRangeException(nameof(reply), reply.Code, "a milter reply code must be 4xx or 5xx");
        var @class = (char)('0' + reply.Code / 100);
        var enhanced = System.Text.RegularExpressions.Regex.IsMatch(reply.Enhanced, @"^[245]\.[0-9]{1,3}\.[0-9]{1,3}$")
            ? @class + reply.Enhanced[1..] + " "
            : @class + ".0.0 ";
        var text = Clean(reply.Text).Replace("%", "%%", StringComparison.Ordinal);
        return MilterFrame.Write((byte)MilterResponse.ReplyCode, Encoding.UTF8.GetBytes($"{reply.Code} {enhanced}{text}\0"));
    }

    // Header values: when SMFIP_HDR_LEADSPC is agreed, Postfix puts no space after the colon of our headers, so the
    // caller passes the value with its leading space (" 3.5"); without it, Postfix adds one and the caller passes none.

    /// <summary>SMFIR_ADDHEADER: a header appended after the message's last header.</summary>
    public static byte[] AddHeader(string name, string value) =>
        MilterFrame.Write((byte)MilterResponse.AddHeader, CString(name), CString(Value(value)));

    /// <summary>SMFIR_INSHEADER: a header inserted at <paramref name="index"/> (0 is the top of the message).</summary>
    public static byte[] InsertHeader(uint index, string name, string value) =>
        MilterFrame.Write((byte)MilterResponse.InsertHeader, UInt32(index), CString(name), CString(Value(value)));

    /// <summary>
    /// SMFIR_CHGHEADER: the <paramref name="occurrence"/>-th header of that name (1 is the first) gets a new
    /// value; an empty value deletes it.
    /// </summary>
    public static byte[] ChangeHeader(uint occurrence, string name, string value) =>
        MilterFrame.Write((byte)MilterResponse.ChangeHeader, UInt32(occurrence), CString(name), CString(Value(value)));

    /// <summary>SMFIR_QUARANTINE: Postfix moves the message to its hold queue; the reason is logged by the MTA.</summary>
    public static byte[] Quarantine(string reason) =>
        MilterFrame.Write((byte)MilterResponse.Quarantine, CString(Clean(reason)));

    /// <summary>The negotiation reply: the version, the actions we may take, the steps to skip, and macros per stage.</summary>
    public static byte[] OptionNegotiation(uint version, MilterActions actions, MilterSteps steps, IReadOnlyDictionary<MacroStage, string>? macros = null)
    {
        var parts = new List<byte[]> { UInt32(version), UInt32((uint)actions), UInt32((uint)steps) };
        foreach (var (stage, list) in macros ?? new Dictionary<MacroStage, string>())
        {
            parts.Add(UInt32((uint)stage));
            parts.Add(CString(list));
        }
        return MilterFrame.Write((byte)MilterResponse.OptionNegotiation, [.. parts]);
    }

    /// <summary>A folded header value as the milter protocol carries it: continuation lines separated by LF alone.</summary>
    private static string Value(string value) => value.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace("\0", "", StringComparison.Ordinal);

    private static string Clean(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
            builder.Append(c is '\r' or '\n' or '\0' ? ' ' : c);
        return builder.ToString();
    }

    private static byte[] CString(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
