using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;

namespace Gateway.Signing;

/// <summary>
/// A private key for DKIM signing or ARC sealing, read once from a PEM file (RSA in PKCS#1 or PKCS#8, Ed25519 in
/// PKCS#8) and kept with its domain and selector. RSA keys under 2048 bits are refused (RFC 8301 makes 1024 the
/// floor for verifiers; senders should use 2048), as are key types DKIM cannot use.
/// </summary>
public sealed class SigningKey
{
    public const int MinRsaBits = 2048;

    private SigningKey(string domain, string selector, string path, AsymmetricKeyParameter key, DkimSignatureAlgorithm algorithm)
    {
        Domain = domain;
        Selector = selector;
        Path = path;
        Key = key;
        Algorithm = algorithm;
    }

    /// <summary>The signing domain (d=), lower case.</summary>
    public string Domain { get; }

    public string Selector { get; }

    public string Path { get; }

    public AsymmetricKeyParameter Key { get; }

    public DkimSignatureAlgorithm Algorithm { get; }

    /// <summary>"rsa-sha256" or "ed25519-sha256".</summary>
    public string AlgorithmName => Algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519-sha256" : "rsa-sha256";

    /// <summary>Reads the key; on failure returns null with the reason in <paramref name="error"/>.</summary>
    public static SigningKey? Load(string domain, string selector, string path, out string? error)
    {
        error = null;
        object? pem;
        try
        {
            using var reader = new StreamReader(path);
            pem = new PemReader(reader).ReadObject();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read the key {path}: {e.Message}";
            return null;
        }
        catch (Exception e) when (e is PemException or InvalidCastException or ArgumentException or Org.BouncyCastle.Asn1.Asn1Exception or SecurityUtilityException)
        {
            error = $"{path} is not a PEM private key: {e.Message}";
            return null;
        }
        var key = pem switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } single => single,
            _ => null,
        };
        switch (key)
        {
            case RsaKeyParameters rsa when rsa.Modulus.BitLength < MinRsaBits:
                error = $"{path}: an RSA key of {rsa.Modulus.BitLength} bits is too weak to sign with; use {MinRsaBits} bits or more";
                return null;
            case RsaKeyParameters:
                return new SigningKey(domain.ToLowerInvariant(), selector, path, key, DkimSignatureAlgorithm.RsaSha256);
            case Ed25519PrivateKeyParameters:
                return new SigningKey(domain.ToLowerInvariant(), selector, path, key, DkimSignatureAlgorithm.Ed25519Sha256);
            default:
                error = $"{path} holds no RSA or Ed25519 private key (found {(pem?.GetType().Name ?? "nothing")})";
                return null;
        }
    }
}
