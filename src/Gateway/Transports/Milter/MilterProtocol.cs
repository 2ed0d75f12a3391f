namespace Gateway.Transports.Milter;

// The Sendmail milter protocol, version 6 as Postfix speaks it (Postfix's src/milter/milter8.c, Sendmail's
// include/libmilter/mfdef.h). No maintained .NET package implements the MTA-facing side of it (the milter side),
// so the protocol is written here by hand: framing, commands, replies and option negotiation.

/// <summary>Commands the MTA sends (SMFIC_*).</summary>
public enum MilterCommand : byte
{
    Abort = (byte)'A',
    Body = (byte)'B',
    Connect = (byte)'C',
    Macro = (byte)'D',
    EndOfBody = (byte)'E',
    Helo = (byte)'H',
    QuitNewConnection = (byte)'K',
    Header = (byte)'L',
    Mail = (byte)'M',
    EndOfHeaders = (byte)'N',
    OptionNegotiation = (byte)'O',
    Quit = (byte)'Q',
    Rcpt = (byte)'R',
    Data = (byte)'T',
    Unknown = (byte)'U',
}

/// <summary>Replies and modification actions the milter sends (SMFIR_*).</summary>
public enum MilterResponse : byte
{
    AddRecipient = (byte)'+',
    DeleteRecipient = (byte)'-',
    Accept = (byte)'a',
    ReplaceBody = (byte)'b',
    Continue = (byte)'c',
    Discard = (byte)'d',
    ChangeSender = (byte)'e',
    ConnectionFail = (byte)'f',
    AddHeader = (byte)'h',
    InsertHeader = (byte)'i',
    SetMacroList = (byte)'l',
    ChangeHeader = (byte)'m',
    OptionNegotiation = (byte)'O',
    Progress = (byte)'p',
    Quarantine = (byte)'q',
    Reject = (byte)'r',
    Skip = (byte)'s',
    Tempfail = (byte)'t',
    ReplyCode = (byte)'y',
}

/// <summary>What the milter may do to a message (SMFIF_*), offered by the MTA and asked for by the milter.</summary>
[Flags]
public enum MilterActions : uint
{
    None = 0,
    AddHeaders = 0x01,
    ChangeBody = 0x02,
    AddRecipients = 0x04,
    DeleteRecipients = 0x08,
    ChangeHeaders = 0x10,
    Quarantine = 0x20,
    ChangeSender = 0x40,
    AddRecipientsWithParameters = 0x80,
    SetMacroList = 0x100,
}

/// <summary>Steps the MTA may skip or not wait for a reply to (SMFIP_*).</summary>
[Flags]
public enum MilterSteps : uint
{
    None = 0,
    NoConnect = 0x01,
    NoHelo = 0x02,
    NoMail = 0x04,
    NoRcpt = 0x08,
    NoBody = 0x10,
    NoHeaders = 0x20,
    NoEndOfHeaders = 0x40,
    NoReplyHeader = 0x80,
    NoUnknown = 0x100,
    NoData = 0x200,
    Skip = 0x400,
    RejectedRecipients = 0x800,
    NoReplyConnect = 0x1000,
    NoReplyHelo = 0x2000,
    NoReplyMail = 0x4000,
    NoReplyRcpt = 0x8000,
    NoReplyData = 0x10000,
    NoReplyUnknown = 0x20000,
    NoReplyEndOfHeaders = 0x40000,
    NoReplyBody = 0x80000,
    HeaderLeadingSpace = 0x100000,
    MaxDataSize256K = 0x10000000,
    MaxDataSize1M = 0x20000000,
}

/// <summary>The protocol stages the milter may ask macros for in its negotiation reply (SMFIM_*).</summary>
public enum MacroStage : uint
{
    Connect = 0,
    Helo = 1,
    Mail = 2,
    Rcpt = 3,
    Data = 4,
    EndOfMessage = 5,
    EndOfHeaders = 6,
}

/// <summary>A packet that breaks the protocol: the milter session ends (the MTA applies its milter_default_action).</summary>
public sealed class MilterProtocolException(string message) : Exception(message);
