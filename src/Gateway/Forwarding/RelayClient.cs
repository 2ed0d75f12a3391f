using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Forwarding;

/// <summary>
/// MailKit's SMTP client, told to send the message exactly as given (no re-encoding in <c>Prepare</c>, the size
/// known without serialising it) and to remember whether the upstream accepted the sender, which tells
/// a failure before the transaction began (safe to retry elsewhere) from one after.
/// </summary>
public sealed class RelayClient : SmtpClient
{
    public string Host { get; init; } = "";

    public DateTime LastUsed { get; set; } = DateTime.UtcNow;

    public bool SenderAccepted { get; private set; }

    public long KnownSize { get; set; } = -1;

    public void BeginSend()
    {
        SenderAccepted = false;
    }

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }

    protected override Task<long> GetSizeAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        KnownSize >= 0 ? Task.FromResult(KnownSize) : base.GetSizeAsync(options, message, cancellationToken);

    protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        KnownSize >= 0 ? KnownSize : base.GetSize(options, message, cancellationToken);

    protected override void OnSenderAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        SenderAccepted = true;
        base.OnSenderAccepted(message, mailbox, response);
    }
}
