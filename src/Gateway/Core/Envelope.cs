namespace Gateway.Core;

/// <summary>The SMTP envelope of one accepted transaction, as the gateway will present it upstream.</summary>
public sealed record Envelope(
    string TransactionId,
    SmtpPath Sender,
    IReadOnlyList<SmtpPath> Recipients,
    bool Utf8,
    bool EightBit);
