using System.Text;
using Gateway.Dns;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Authentication.Dkim;

/// <summary>
/// Verifies every DKIM-Signature of a message (RFC 6376, RFC 8301, RFC 8463), topmost first. Each signature runs
/// through, in this order: its tag checks (permerror), the key query and key-record checks (permerror, or
/// temperror when DNS failed), RFC 8301 (rsa-sha1 and RSA keys under <see cref="DkimOptions.MinimumRsaBits"/>:
/// permerror), then the body hash and the signature (fail). DomainKey-Signature headers are not DKIM and are
/// ignored. An empty list means the message carries no DKIM signature (dkim=none).
/// </summary>
/// <remarks>
/// The message must be parsed from the bytes as received, CRLF line ends (the default <see cref="ParserOptions"/>
/// are fine): the header canonicalization reads MimeKit's raw header bytes, and the body is written back from the
/// parsed tree, which MimeKit keeps byte for byte. A message modified after parsing (headers added or set through
/// MimeKit) no longer verifies.
/// </remarks>
public sealed class DkimChecker
{
    private const int HeaderBLength = 12;

    private readonly DkimOptions _options;
    private readonly DkimKeyLocator _locator;
    private readonly DkimCrypto _crypto;

    public DkimChecker(IDnsResolver dns, DkimOptions options)
    {
        _options = options;
        _locator = new DkimKeyLocator(dns, options.MinimumRsaBits);
        _crypto = new DkimCrypto(_locator);
    }

    public async Task<IReadOnlyList<DkimSignatureResult>> VerifyAsync(MimeMessage message, CancellationToken ct)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        var now = _options.TimeProvider.GetUtcNow();
        var results = new List<DkimSignatureResult>();
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature).ToArray())
        {
            results.Add(results.Count < _options.MaxSignatures
                ? await CheckAsync(message, header, format, now, ct).ConfigureAwait(false)
                : Describe(header, DkimResult.Neutral, $"not checked: more than {_options.MaxSignatures} signatures", []));
        }
        return results;
    }

    private async Task<DkimSignatureResult> CheckAsync(MimeMessage message, Header header, FormatOptions format, DateTimeOffset now, CancellationToken ct)
    {
        var tags = DkimTagList.Parse(RawValue(header), out var syntax);
        if (tags is null)
            return new DkimSignatureResult(DkimResult.PermError, null, null, null, null, null, "signature syntax: " + syntax, null, []);

        var signature = DkimSignature.Validate(tags, now, out var invalid);
        if (signature is null)
            return Describe(tags, DkimResult.PermError, invalid, []);

        var lookup = await _locator.LookupAsync(signature.Domain, signature.Selector, signature.KeyType, signature.HashName, ct).ConfigureAwait(false);
        if (lookup.Key is not { } key)
            return Describe(tags, lookup.Failure, lookup.Reason, lookup.Trace);
        if (key.StrictIdentity && !signature.IdentityDomain.Equals(signature.Domain, StringComparison.OrdinalIgnoreCase))
            return Describe(tags, DkimResult.PermError, "key has t=s but i= is in a subdomain of d=", lookup.Trace);
        if (signature.SignatureAlgorithm == DkimSignatureAlgorithm.RsaSha1)
            return Describe(tags, DkimResult.PermError, "rsa-sha1 is not accepted (RFC 8301)", lookup.Trace);

        try
        {
            if (!DkimCrypto.BodyHashMatches(format, message, signature))
                return Describe(tags, DkimResult.Fail, "body hash mismatch", lookup.Trace);
            if (!_crypto.SignatureMatches(format, message, header, signature, key.PublicKey))
                return Describe(tags, DkimResult.Fail, "signature mismatch", lookup.Trace);
            return Describe(tags, DkimResult.Pass, null, lookup.Trace);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever MimeKit or BouncyCastle throws on a malformed signature (bad base64 in b=, a missing
            // b= in the raw header...) is a property of this signature: permerror, never a crash, never pass.
            return Describe(tags, DkimResult.PermError, $"cannot verify: {e.Message}", lookup.Trace);
        }
    }

    /// <summary>
    /// The key record names the signatures of a message will look up (those whose tags parse), so that a caller can
    /// start those queries side by side before the signatures are checked one by one.
    /// </summary>
    public static IEnumerable<string> KeyNames(MimeMessage message, int maxSignatures) =>
        message.Headers.Where(h => h.Id == HeaderId.DkimSignature).Take(maxSignatures)
            .Select(h => DkimTagList.Parse(RawValue(h), out _))
            .Where(t => t?["d"] is { Length: > 0 } && t["s"] is { Length: > 0 })
            .Select(t => $"{DkimTagList.Compact(t!["s"]!)}._domainkey.{DkimTagList.Compact(t["d"]!)}")
            .Distinct(StringComparer.OrdinalIgnoreCase);

    private static string RawValue(Header header) => Encoding.UTF8.GetString(header.RawValue);

    private static DkimSignatureResult Describe(Header header, DkimResult result, string reason, IReadOnlyList<string> trace) =>
        DkimTagList.Parse(RawValue(header), out _) is { } tags
            ? Describe(tags, result, reason, trace)
            : new DkimSignatureResult(result, null, null, null, null, null, reason, null, trace);

    private static DkimSignatureResult Describe(DkimTagList tags, DkimResult result, string? reason, IReadOnlyList<string> trace)
    {
        var b = tags["b"] is { } value ? DkimTagList.Compact(value) : null;
        long? length = tags["l"] is { } l && long.TryParse(l, out var parsed) ? parsed : null;
        return new DkimSignatureResult(result, tags["d"], tags["s"], tags["a"], tags["i"],
            b is null || b.Length == 0 ? null : b[..Math.Min(b.Length, HeaderBLength)], reason, length, trace);
    }
}
