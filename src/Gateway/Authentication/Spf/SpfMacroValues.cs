using System.Net;

namespace Gateway.Authentication.Spf;

/// <summary>
/// What the macro letters of RFC 7208 7.2 stand for in one expansion. <see cref="ValidatedName"/> is the
/// <c>%{p}</c> value, looked up beforehand by the checker (null: "unknown").
/// </summary>
public sealed record SpfMacroValues(
    string Sender,
    string LocalPart,
    string SenderDomain,
    string Domain,
    IPAddress Client,
    string Helo,
    string? ValidatedName,
    string ReceivingHost,
    long Timestamp);
