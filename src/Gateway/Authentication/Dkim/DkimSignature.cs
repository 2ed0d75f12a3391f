// Written by hand: MimeKit validates a DKIM-Signature only partly and reports every problem as a FormatException
// (it does not check x=, rejects a t= after 2038, and accepts any q=). These checks follow RFC 6376 section 6.1.1
// so that each problem becomes permerror with its own reason.
using System.Globalization;
using MimeKit.Cryptography;

namespace Gateway.Authentication.Dkim;

/// <summary>A DKIM-Signature whose tags passed the checks of RFC 6376 section 6.1.1.</summary>
internal sealed class DkimSignature
{
    public required string Algorithm { get; init; }
    public required DkimSignatureAlgorithm SignatureAlgorithm { get; init; }
    public required DkimCanonicalizationAlgorithm HeaderCanonicalization { get; init; }
    public required DkimCanonicalizationAlgorithm BodyCanonicalization { get; init; }
    public required string Domain { get; init; }
    public required string Selector { get; init; }

    /// <summary>The domain of i= (d= when i= is absent), for the key's t=s flag.</summary>
    public required string IdentityDomain { get; init; }

    public required string[] SignedHeaders { get; init; }
    public required string BodyHash { get; init; }
    public required string Signature { get; init; }
    public long? BodyLength { get; init; }

    /// <summary>"rsa" or "ed25519": the key type a= needs.</summary>
    public string KeyType => SignatureAlgorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519" : "rsa";

    /// <summary>"sha256" or "sha1": the hash a key's h= must allow.</summary>
    public string HashName => SignatureAlgorithm == DkimSignatureAlgorithm.RsaSha1 ? "sha1" : "sha256";

    /// <summary>Checks the tags; null and a short reason (a permerror) when the signature cannot be used.</summary>
    public static DkimSignature? Validate(DkimTagList tags, DateTimeOffset now, out string? error)
    {
        var version = tags["v"];
        if (version is null)
            return Invalid("no v= tag", out error);
        if (version != "1")
            return Invalid($"unsupported version v={version}", out error);

        foreach (var required in (string[])["a", "b", "bh", "d", "h", "s"])
        {
            if (string.IsNullOrEmpty(tags[required]))
                return Invalid($"no {required}= tag", out error);
        }

        var a = tags["a"]!;
        DkimSignatureAlgorithm algorithm;
        switch (a.ToLowerInvariant())
        {
            case "rsa-sha256": algorithm = DkimSignatureAlgorithm.RsaSha256; break;
            case "ed25519-sha256": algorithm = DkimSignatureAlgorithm.Ed25519Sha256; break;
            case "rsa-sha1": algorithm = DkimSignatureAlgorithm.RsaSha1; break;
            default: return Invalid($"unknown algorithm a={a}", out error);
        }

        var headerCanon = DkimCanonicalizationAlgorithm.Simple;
        var bodyCanon = DkimCanonicalizationAlgorithm.Simple;
        if (tags["c"] is { } c)
        {
            var parts = c.Split('/');
            if (parts.Length > 2 || !TryCanonicalization(parts[0], out headerCanon)
                || (parts.Length == 2 && !TryCanonicalization(parts[1], out bodyCanon)))
                return Invalid($"unknown canonicalization c={c}", out error);
        }

        if (tags["q"] is { } q && !DkimTagList.SplitList(q).Any(m => m.Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
            return Invalid($"no supported query method in q={q}", out error);

        var domain = tags["d"]!.TrimEnd('.');
        var selector = tags["s"]!;
        if (!Dns.DnsNames.IsValidQueryName(selector + "._domainkey." + domain))
            return Invalid("d= or s= is not a valid domain name", out error);

        var headers = DkimTagList.SplitList(tags["h"]!);
        if (headers.Any(h => h.Length == 0))
            return Invalid("empty header name in h=", out error);
        if (!headers.Any(h => h.Equals("from", StringComparison.OrdinalIgnoreCase)))
            return Invalid("From is not signed (h=)", out error);

        var identityDomain = domain;
        if (tags["i"] is { } i)
        {
            var at = i.LastIndexOf('@');
            if (at < 0)
                return Invalid("i= has no @", out error);
            identityDomain = i[(at + 1)..].TrimEnd('.');
            if (!identityDomain.Equals(domain, StringComparison.OrdinalIgnoreCase)
                && !identityDomain.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase))
                return Invalid($"i= domain {identityDomain} is not within d={domain}", out error);
        }

        long? length = null;
        if (tags["l"] is { } l)
        {
            if (!TryNumber(l, 76, out var value))
                return Invalid($"bad l={l}", out error);
            length = value;
        }

        long? timestamp = null;
        if (tags["t"] is { } t)
        {
            if (!TryNumber(t, 12, out var value))
                return Invalid($"bad t={t}", out error);
            timestamp = value;
        }

        if (tags["x"] is { } x)
        {
            if (!TryNumber(x, 12, out var expiry))
                return Invalid($"bad x={x}", out error);
            if (timestamp is { } signed && expiry < signed)
                return Invalid("x= is before t=", out error);
            if (expiry < now.ToUnixTimeSeconds())
                return Invalid("signature expired (x=)", out error);
        }

        error = null;
        return new DkimSignature
        {
            Algorithm = a,
            SignatureAlgorithm = algorithm,
            HeaderCanonicalization = headerCanon,
            BodyCanonicalization = bodyCanon,
            Domain = domain,
            Selector = selector,
            IdentityDomain = identityDomain,
            SignedHeaders = headers,
            BodyHash = DkimTagList.Compact(tags["bh"]!),
            Signature = DkimTagList.Compact(tags["b"]!),
            BodyLength = length,
        };
    }

    private static DkimSignature? Invalid(string reason, out string? error)
    {
        error = reason;
        return null;
    }

    private static bool TryCanonicalization(string name, out DkimCanonicalizationAlgorithm value)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "simple": value = DkimCanonicalizationAlgorithm.Simple; return true;
            case "relaxed": value = DkimCanonicalizationAlgorithm.Relaxed; return true;
            default: value = default; return false;
        }
    }

    /// <summary>1*N DIGIT; values past long's range are clamped (an l= that large covers any body).</summary>
    private static bool TryNumber(string text, int maxDigits, out long value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > maxDigits || !text.All(char.IsAsciiDigit))
            return false;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            value = long.MaxValue;
        return true;
    }
}
