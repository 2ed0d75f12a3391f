using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Authentication.Arc;

/// <summary>
/// Wraps any key locator for one validation: refuses RSA keys shorter than the minimum (RFC 8301), whatever locator
/// production uses, and remembers why lookups went wrong. MimeKit's ArcVerifier swallows every exception thrown while
/// verifying a signature and only reports "failed", so this is where the reason (and a temporary failure) is kept.
/// </summary>
internal sealed class KeyPolicyLocator(IDkimPublicKeyLocator inner, int minimumRsaBits) : IDkimPublicKeyLocator
{
    private readonly object _gate = new();
    private readonly List<string> _problems = [];

    /// <summary>True when at least one lookup failed temporarily.</summary>
    public bool SawTemporaryFailure { get; private set; }

    /// <summary>What went wrong with keys, in the order it happened.</summary>
    public IReadOnlyList<string> Problems
    {
        get { lock (_gate) return [.. _problems]; }
    }

    public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return Check(inner.LocatePublicKey(methods, domain, selector, cancellationToken), domain, selector);
        }
        catch (Exception e) when (Note(e, domain, selector))
        {
            throw;
        }
    }

    public async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
        CancellationToken cancellationToken = default)
    {
        try
        {
            var key = await inner.LocatePublicKeyAsync(methods, domain, selector, cancellationToken).ConfigureAwait(false);
            return Check(key, domain, selector);
        }
        catch (Exception e) when (Note(e, domain, selector))
        {
            throw;
        }
    }

    private AsymmetricKeyParameter Check(AsymmetricKeyParameter key, string domain, string selector)
    {
        if (key is RsaKeyParameters rsa && rsa.Modulus.BitLength < minimumRsaBits)
            throw new WeakKeyException($"{selector}._domainkey.{domain}: {rsa.Modulus.BitLength}-bit RSA key (minimum {minimumRsaBits})");
        return key;
    }

    /// <summary>Records the failure; always false so the exception goes on unchanged.</summary>
    private bool Note(Exception e, string domain, string selector)
    {
        if (e is OperationCanceledException)
            return false;
        var temporary = e is KeyLookupTemporaryException or Dkim.DkimKeyException { Result: Dkim.DkimResult.TempError };
        var text = e switch
        {
            WeakKeyException => e.Message,
            _ when temporary => $"{selector}._domainkey.{domain}: key lookup failed temporarily ({e.Message})",
            _ => $"{selector}._domainkey.{domain}: no usable key ({e.Message})",
        };
        lock (_gate)
        {
            _problems.Add(text);
            if (temporary)
                SawTemporaryFailure = true;
        }
        return false;
    }

    private sealed class WeakKeyException(string message) : Exception(message);
}
