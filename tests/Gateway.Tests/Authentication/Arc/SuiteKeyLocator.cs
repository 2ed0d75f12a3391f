using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Gateway.Tests.Authentication.Arc;

/// <summary>
/// Serves a suite scenario's txt-records as DKIM keys (selector._domainkey.domain). Whitespace inside tag values is
/// dropped before MimeKit's own TXT parser reads the key, because the folded YAML puts spaces inside p=.
/// </summary>
public sealed class SuiteKeyLocator(IReadOnlyDictionary<string, string> records) : DkimPublicKeyLocatorBase
{
    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector,
        CancellationToken cancellationToken = default)
    {
        var name = $"{selector}._domainkey.{domain}".ToLowerInvariant();
        if (!records.TryGetValue(name, out var txt))
            throw new KeyNotFoundException("no TXT record at " + name);
        return GetPublicKey(WithoutValueWhitespace(txt));
    }

    public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
        CancellationToken cancellationToken = default) =>
        Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));

    private static string WithoutValueWhitespace(string txt) =>
        string.Join(";", txt.Split(';').Select(tag =>
        {
            var equals = tag.IndexOf('=');
            return equals < 0
                ? tag.Trim()
                : tag[..equals].Trim() + "=" + string.Concat(tag[(equals + 1)..].Where(c => !char.IsWhiteSpace(c)));
        }));
}
