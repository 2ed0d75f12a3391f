using MimeKit;

namespace Gateway.Forwarding;

/// <summary>
/// A MIME entity that writes a message's original bytes. MailKit only sends a <see cref="MimeMessage"/>; with this
/// as the body (and no headers of its own) it sends exactly the bytes the client gave us, so signatures made over
/// them (DKIM) still verify, and no time is spent parsing and re-serialising MIME.
/// </summary>
public sealed class RawMessageBody : MimeEntity
{
    private readonly Stream _content;

    public RawMessageBody(Stream content) : base("application", "octet-stream")
    {
        _content = content;
        Headers.Clear(); // the Content-Type the base constructor added is not part of the original message
        // MimeMessage writes a blank line before a body whose (empty) header list "has a body separator", which a
        // new HeaderList always claims; the setter is internal. The end-to-end byte-preservation tests pin this.
        HasBodySeparator.SetValue(Headers, false);
    }

    private static readonly System.Reflection.PropertyInfo HasBodySeparator =
        typeof(HeaderList).GetProperty("HasBodySeparator", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
        ?? throw new MissingMemberException("MimeKit.HeaderList.HasBodySeparator is gone: see RawMessageBody");

    public long Length => _content.Length;

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        _content.Position = 0;
        _content.CopyTo(stream);
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        _content.Position = 0;
        await _content.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A message whose only own header is <paramref name="header"/> and whose body is the raw bytes. It is made by
    /// parsing the header text because only parsed messages are in MimeKit's loose mode, which writes no blank
    /// line of its own between the headers and a body that has none.
    /// </summary>
    public static MimeMessage Wrap(string header, Stream content)
    {
        var options = new ParserOptions { MaxMimeDepth = 8 };
        using var headerStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(header));
        var message = MimeMessage.Load(options, headerStream);
        message.Body = new RawMessageBody(content);
        return message;
    }
}
