using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Gateway.Authentication.Dkim;

/// <summary>
/// MimeKit's canonicalization and cryptography without its tag checks: <see cref="DkimVerifier"/> answers only
/// true or false (a body-hash mismatch, a bad key and a malformed tag look alike), looks the key up after hashing the
/// body and skips x=, t=s, h= and s=. <see cref="DkimChecker"/> makes those checks itself and uses MimeKit only for
/// the two hashes, through the protected primitives of <see cref="DkimVerifierBase"/>.
/// </summary>
internal sealed class DkimCrypto(IDkimPublicKeyLocator locator) : DkimVerifierBase(locator)
{
    public static bool BodyHashMatches(FormatOptions format, MimeMessage message, DkimSignature signature) =>
        VerifyBodyHash(format, message, signature.SignatureAlgorithm, signature.BodyCanonicalization,
            signature.BodyLength is { } length ? (int)Math.Min(length, int.MaxValue) : -1, signature.BodyHash);

    public bool SignatureMatches(FormatOptions format, MimeMessage message, Header header, DkimSignature signature, AsymmetricKeyParameter key) =>
        VerifySignature(format, message, header, signature.SignatureAlgorithm, key, signature.SignedHeaders,
            signature.HeaderCanonicalization, signature.Signature);
}
