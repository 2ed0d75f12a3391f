using System.Text;
using MimeKit;

namespace Gateway.Signing;

/// <summary>How signing reads the message and hands back the headers it made.</summary>
internal static class SigningFormat
{
    /// <summary>CRLF line ends, as the message travels.</summary>
    public static readonly FormatOptions Options = CreateOptions();

    private static FormatOptions CreateOptions()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        return options;
    }

    /// <summary>Removes the first <paramref name="count"/> headers (those the signer inserted) and returns them as text.</summary>
    public static string TakeTopHeaders(MimeMessage message, int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var header = message.Headers[0];
            message.Headers.RemoveAt(0);
            text.Append(header.Field).Append(':').Append(Encoding.ASCII.GetString(header.RawValue).Replace("\r\n", "\n").Replace("\n", "\r\n"));
            if (text[^1] != '\n')
                text.Append("\r\n");
        }
        return text.ToString();
    }
}
