// Written by hand: MimeKit's DkimPublicKeyLocatorBase.GetPublicKey reads only k= and p= of a key record; the
// other rules of RFC 6376 section 3.6.1 (v= first, h=, s=, t=, empty p= = revoked) are checked here.
using System.Collections.Concurrent;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Utilities;
using Org.BouncyCastle.Security;

namespace Gateway.Authentication.Dkim;

/// <summary>A DKIM key record (RFC 6376 section 3.6.1, RFC 8463 for ed25519) that parsed and holds a usable key.</summary>
/// <param name="KeyType">k=: "rsa" or "ed25519".</param>
/// <param name="Hashes">h=: the hash algorithms the key may be used with; null means any.</param>
/// <param name="StrictIdentity">t=s: the i= domain must be d= itself, not a subdomain.</param>
/// <param name="Testing">t=y: the domain is testing DKIM (the result is reported unchanged).</param>
/// <param name="PublicKey">The key, in the form MimeKit's verifier takes.</param>
/// <param name="KeyBits">The RSA modulus length, 256 for ed25519.</param>
public sealed record DkimKeyRecord(
    string KeyType,
    IReadOnlyList<string>? Hashes,
    bool StrictIdentity,
    bool Testing,
    AsymmetricKeyParameter PublicKey,
    int KeyBits)
{
    private const int CacheLimit = 1024;

    /// <summary>RSA keys past this size are refused: RFC 8301 asks verifiers for 1024 to 4096 bits.</summary>
    public const int MaxRsaBits = 8192;

    /// <summary>A public exponent past this size (65537 is 17 bits) would make a verification arbitrarily slow.</summary>
    public const int MaxRsaExponentBits = 64;

    /// <summary>
    /// Parsed records by their text. BouncyCastle checks every RSA modulus it is given with a probable-prime test
    /// (tens of milliseconds for 2048 bits on a busy core), so the few keys most mail is signed with are parsed once.
    /// Parsing is a pure function of the text; the cache is emptied whenever it grows past the limit.
    /// </summary>
    private static readonly ConcurrentDictionary<string, (DkimKeyRecord? Record, string? Error)> Cache = new(StringComparer.Ordinal);

    /// <summary>Parses one TXT record; null and a short reason (always a permerror) when it is not a usable key.</summary>
    public static DkimKeyRecord? Parse(string txt, out string? error)
    {
        if (!Cache.TryGetValue(txt, out var parsed))
        {
            parsed.Record = ParseUncached(txt, out parsed.Error);
            if (Cache.Count >= CacheLimit)
                Cache.Clear();
            Cache[txt] = parsed;
        }
        error = parsed.Error;
        return parsed.Record;
    }

    private static DkimKeyRecord? ParseUncached(string txt, out string? error)
    {
        var tags = DkimTagList.Parse(txt, out var syntax);
        if (tags is null)
            return Invalid("key record syntax: " + syntax, out error);

        if (tags["v"] is { } version)
        {
            if (tags.Tags[0].Key != "v")
                return Invalid("key record v= is not the first tag", out error);
            if (version != "DKIM1")
                return Invalid($"key record v={version}", out error);
        }

        var keyType = tags["k"] ?? "rsa";
        if (keyType is not ("rsa" or "ed25519"))
            return Invalid($"unknown key type k={keyType}", out error);

        string[]? hashes = tags["h"] is { } h ? DkimTagList.SplitList(h) : null;

        if (tags["s"] is { } services && !DkimTagList.SplitList(services).Any(s => s is "*" or "email"))
            return Invalid($"key not for email (s={services})", out error);

        var flags = tags["t"] is { } t ? DkimTagList.SplitList(t) : [];

        if (tags["p"] is not { } p)
            return Invalid("key record has no p=", out error);
        var data = DkimTagList.Compact(p);
        if (data.Length == 0)
            return Invalid("key revoked (empty p=)", out error);

        var key = Decode(keyType, data, out var bits);
        if (key is null)
            return Invalid($"p= is not a valid {keyType} public key", out error);

        error = null;
        return new DkimKeyRecord(keyType, hashes, flags.Contains("s"), flags.Contains("y"), key, bits);
    }

    /// <summary>Why this key cannot check a signature made with the given key type and hash, or null if it can.</summary>
    public string? NotApplicable(string signatureKeyType, string hashName, int minimumRsaBits)
    {
        if (KeyType != signatureKeyType)
            return $"key type k={KeyType} does not match the signature's algorithm";
        if (Hashes is not null && !Hashes.Contains(hashName))
            return $"key h= does not allow {hashName}";
        if (KeyType == "rsa" && KeyBits < minimumRsaBits)
            return $"RSA key of {KeyBits} bits (less than {minimumRsaBits})";
        return null;
    }

    private static AsymmetricKeyParameter? Decode(string keyType, string base64, out int bits)
    {
        bits = 0;
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var length))
            return null;
        bytes = bytes[..length];
        if (keyType == "ed25519")
        {
            // RFC 8463 section 4.2: p= is the bare 32-byte key, not a SubjectPublicKeyInfo.
            if (length != Ed25519PublicKeyParameters.KeySize)
                return null;
            bits = 256;
            return new Ed25519PublicKeyParameters(bytes, 0);
        }
        try
        {
            // RFC 6376 says SubjectPublicKeyInfo; some publishers put the bare RSAPublicKey (PKCS#1) there.
            var asn1 = Asn1Object.FromByteArray(bytes);
            // BouncyCastle tests every RSA modulus it is given for primality (about 40 ms for 2048 bits): a key
            // published per message would make each one cost that much CPU. A verifier gains nothing from the test
            // (a bad key only fails to verify), so it is switched off here, and the sizes that bound the cost of a
            // verification are checked instead.
            var rsa = Properties.WithThreadProperty(Properties.RsaMaxMRTests, "0", () =>
                asn1 is Asn1Sequence { Count: 2 } sequence && sequence[0] is DerInteger
                    ? new RsaKeyParameters(false, RsaPublicKeyStructure.GetInstance(sequence).Modulus, RsaPublicKeyStructure.GetInstance(sequence).PublicExponent)
                    : PublicKeyFactory.CreateKey(SubjectPublicKeyInfo.GetInstance(asn1)) as RsaKeyParameters);
            if (rsa is null || rsa.Modulus.BitLength > MaxRsaBits || rsa.Exponent.BitLength > MaxRsaExponentBits)
                return null;
            bits = rsa.Modulus.BitLength;
            return rsa;
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or SecurityUtilityException or InvalidOperationException)
        {
            // BouncyCastle reports malformed DER with any of these.
            return null;
        }
    }

    private static DkimKeyRecord? Invalid(string reason, out string? error)
    {
        error = reason;
        return null;
    }
}
