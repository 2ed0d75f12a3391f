using System.Globalization;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Authentication.Arc;

/// <summary>
/// Verifies one ARC-Message-Signature of any instance. MimeKit's ArcVerifier only verifies the newest AMS (all a chain
/// needs) and keeps that code private; RFC 8617's optional "oldest-pass" needs the older ones too. The tag reading is
/// written here; body hashing, header canonicalization and the signature check are MimeKit's, through the protected
/// helpers of <see cref="DkimVerifierBase"/>.
/// </summary>
internal sealed class AmsVerifier : DkimVerifierBase
{
    public AmsVerifier(IDkimPublicKeyLocator locator, int minimumRsaBits) : base(locator)
    {
        MinimumRsaKeyLength = minimumRsaBits;
        Disable(DkimSignatureAlgorithm.RsaSha1);
    }

    /// <summary>True when the signature verifies; false for any malformed tag, missing key or mismatch.</summary>
    public async Task<bool> VerifyAsync(MimeMessage message, Header ams, CancellationToken ct)
    {
        var tags = ArcHeaderScan.Tags(ams.Value);
        if (Algorithm(tags.GetValueOrDefault("a")) is not { } algorithm || !IsEnabled(algorithm))
            return false;
        if (!Canonicalization(tags.GetValueOrDefault("c") ?? "simple/simple", out var headerCanon, out var bodyCanon))
            return false;
        if (!tags.TryGetValue("d", out var d) || d.Length == 0 || !tags.TryGetValue("s", out var s) || s.Length == 0
            || !tags.TryGetValue("h", out var h) || !tags.TryGetValue("bh", out var bh)
            || !tags.TryGetValue("b", out var b) || b.Length == 0)
            return false;
        var maxLength = -1;
        if (tags.TryGetValue("l", out var l) && !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out maxLength))
            return false;
        var headers = h.Split(':');
        if (headers.Any(name => name.Equals("arc-seal", StringComparison.OrdinalIgnoreCase)))
            return false;

        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        if (!VerifyBodyHash(options, message, algorithm, bodyCanon, maxLength, bh))
            return false;
        var key = await PublicKeyLocator.LocatePublicKeyAsync(tags.GetValueOrDefault("q") ?? "dns/txt", d, s, ct).ConfigureAwait(false);
        if (key is RsaKeyParameters rsa && rsa.Modulus.BitLength < MinimumRsaKeyLength)
            return false;
        return VerifySignature(options, message, ams, algorithm, key, headers, headerCanon, b);
    }

    private static DkimSignatureAlgorithm? Algorithm(string? a) => a?.ToLowerInvariant() switch
    {
        "rsa-sha256" => DkimSignatureAlgorithm.RsaSha256,
        "ed25519-sha256" => DkimSignatureAlgorithm.Ed25519Sha256,
        "rsa-sha1" => DkimSignatureAlgorithm.RsaSha1,
        _ => null,
    };

    private static bool Canonicalization(string c, out DkimCanonicalizationAlgorithm header, out DkimCanonicalizationAlgorithm body)
    {
        var parts = c.ToLowerInvariant().Split('/');
        header = body = DkimCanonicalizationAlgorithm.Simple;
        if (parts.Length > 2 || One(parts[0]) is not { } first)
            return false;
        header = first;
        if (parts.Length == 2)
        {
            if (One(parts[1]) is not { } second)
                return false;
            body = second;
        }
        return true;

        static DkimCanonicalizationAlgorithm? One(string name) => name switch
        {
            "simple" => DkimCanonicalizationAlgorithm.Simple,
            "relaxed" => DkimCanonicalizationAlgorithm.Relaxed,
            _ => null,
        };
    }
}
