using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Signing;

/// <summary>
/// Makes the DKIM-Signature header of an outbound message with MimeKit's DkimSigner: relaxed/relaxed, over the
/// header fields RFC 6376 5.4.1 recommends that the message has, with From signed once more than it occurs
/// (over-signing: a From added in transit breaks the signature).
/// </summary>
public static class DkimSigning
{
    /// <summary>RFC 6376 5.4.1's recommended set, in the order they go into h=.</summary>
    public static readonly IReadOnlyList<string> RecommendedHeaders =
    [
        "From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
        "In-Reply-To", "References", "List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe", "List-Post",
        "List-Owner", "List-Archive", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
    ];

    /// <summary>The header line to prepend (CRLF-terminated, folded); the message itself is left as it was.</summary>
    public static string Sign(MimeMessage message, SigningKey key, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var signer = new TimedDkimSigner(key, time)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        var fields = FieldsToSign(message, RecommendedHeaders);
        fields.Add("From");
        cancellationToken.ThrowIfCancellationRequested();
        signer.Sign(SigningFormat.Options, message, fields);
        return SigningFormat.TakeTopHeaders(message, 1);
    }

    /// <summary>Each field of <paramref name="names"/> as many times as the message has it (Content-* are the body's).</summary>
    public static List<string> FieldsToSign(MimeMessage message, IReadOnlyList<string> names)
    {
        var fields = new List<string>();
        foreach (var name in names)
        {
            var headers = name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) ? message.Body?.Headers : message.Headers;
            if (headers is null)
                continue;
            foreach (var header in headers)
            {
                if (header.Field.Equals(name, StringComparison.OrdinalIgnoreCase))
                    fields.Add(name);
            }
        }
        return fields;
    }

    private sealed class TimedDkimSigner(SigningKey key, TimeProvider time) : DkimSigner(key.Key, key.Domain, key.Selector, key.Algorithm)
    {
        protected override long GetTimestamp() => time.GetUtcNow().ToUnixTimeSeconds();
    }
}
