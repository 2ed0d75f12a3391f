using Gateway.Dns;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Gateway.Authentication.Dkim;

/// <summary>
/// Finds DKIM keys at <c>selector._domainkey.domain</c> through <see cref="IDnsResolver"/>.
/// <para>Several TXT records at the name (RFC 6376 section 3.6.2.2 leaves the choice to the verifier): they are tried
/// in the order DNS gave them and the first one that parses and fits the signature (key type, h=, key size) is
/// used; when none does, the first record's problem is reported. The cryptographic check is made with that one
/// key only, so a crowded name cannot multiply the work of a signature.</para>
/// </summary>
public sealed class DkimKeyLocator(IDnsResolver dns, int minimumRsaBits = 1024) : IDkimPublicKeyLocator
{
    private readonly List<string> _trace = [];

    /// <summary>The DNS answers of the lookups made through <see cref="IDkimPublicKeyLocator"/> (ARC's), for explain.</summary>
    public IReadOnlyList<string> Trace
    {
        get
        {
            lock (_trace)
                return [.. _trace.Distinct()];
        }
    }

    /// <summary>Looks the key up and checks it against the signature's key type ("rsa"/"ed25519") and hash
    /// ("sha256"/"sha1"); with both null, any usable key record is taken.</summary>
    public async Task<DkimKeyLookup> LookupAsync(string domain, string selector, string? keyType, string? hashName, CancellationToken cancellationToken)
    {
        var name = selector + "._domainkey." + domain.TrimEnd('.');
        if (!DnsNames.IsValidQueryName(name))
            return new DkimKeyLookup(null, DkimResult.PermError, "invalid key name " + name, []);

        var answer = await dns.TxtAsync(name, cancellationToken).ConfigureAwait(false);
        string[] trace = [$"TXT {name} -> {answer.Describe()}"];
        switch (answer.Status)
        {
            case DnsStatus.Failure:
                return new DkimKeyLookup(null, DkimResult.TempError, "key lookup failed: " + answer.Error, trace);
            case DnsStatus.NxDomain:
            case DnsStatus.NoData:
                return new DkimKeyLookup(null, DkimResult.PermError, "no key", trace);
        }

        string? firstProblem = null;
        foreach (var txt in answer.Records)
        {
            var record = DkimKeyRecord.Parse(txt, out var problem);
            if (record is not null && keyType is not null && hashName is not null)
                problem = record.NotApplicable(keyType, hashName, minimumRsaBits);
            else if (record is not null && record.KeyType == "rsa" && record.KeyBits < minimumRsaBits)
                problem = record.NotApplicable("rsa", "sha256", minimumRsaBits);
            if (problem is null)
                return new DkimKeyLookup(record, DkimResult.None, null, trace);
            firstProblem ??= problem;
        }
        var reason = answer.Records.Count > 1 ? $"{firstProblem} (none of {answer.Records.Count} records usable)" : firstProblem;
        return new DkimKeyLookup(null, DkimResult.PermError, reason, trace);
    }

    /// <inheritdoc/>
    /// <exception cref="DkimKeyException">No usable key (its <see cref="DkimKeyException.Result"/> says perm or temp).</exception>
    public async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        if (!DkimTagList.SplitList(methods).Any(m => m.Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
            throw new DkimKeyException(DkimResult.PermError, "no supported query method in q=" + methods);
        var lookup = await LookupAsync(domain, selector, null, null, cancellationToken).ConfigureAwait(false);
        lock (_trace)
            _trace.AddRange(lookup.Trace);
        return lookup.Key?.PublicKey ?? throw new DkimKeyException(lookup.Failure, lookup.Reason ?? "no key");
    }

    /// <inheritdoc/>
    /// <remarks>MimeKit's synchronous path; blocks on the resolver. The gateway itself only uses the async one.</remarks>
    public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();
}
