using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Authentication.Arc;

/// <summary>
/// Validates a message's Authenticated Received Chain (RFC 8617 section 5.2) with MimeKit's <see cref="ArcVerifier"/>,
/// adding what MimeKit leaves to its caller: RFC 8301 (rsa-sha1 and RSA keys under <see cref="ArcOptions.MinimumRsaBits"/>
/// never verify, whatever the locator), the limit on ARC sets, the hops for reporting, a short reason for a failure,
/// and a temporary key-lookup failure told apart from a bad signature. It never throws for a malformed message; only
/// cancellation throws.
/// </summary>
public sealed class ArcChecker
{
    private readonly IDkimPublicKeyLocator keys;
    private readonly ArcOptions options;

    public ArcChecker(IDkimPublicKeyLocator keys, ArcOptions options)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        // MimeKit refuses any instance above 50 itself, so a larger limit would not be honoured.
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxInstances, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxInstances, 50);
        // RFC 8301: keys under 1024 bits are never acceptable, so the option can only raise the bar.
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MinimumRsaBits, 1024);
        this.keys = keys;
        this.options = options;
    }

    public async Task<ArcOutcome> VerifyAsync(MimeMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        ct.ThrowIfCancellationRequested();

        ArcHeaderScan scan;
        try
        {
            scan = ArcHeaderScan.Of(message.Headers);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ArcOutcome(ArcResult.Fail, "unreadable ARC headers: " + e.Message, [], null);
        }
        if (scan.HeaderCount == 0)
            return ArcOutcome.NoChain;
        var hops = scan.Hops;
        if (scan.MaxInstance > options.MaxInstances)
            return Fail($"more than {options.MaxInstances} ARC sets (i={scan.MaxInstance})");

        if (scan.SignsArcSeal(scan.MaxInstance))
            return Fail($"ARC-Message-Signature i={scan.MaxInstance} signs ARC-Seal headers (h=), which RFC 8617 forbids");

        var locator = new KeyPolicyLocator(keys, options.MinimumRsaBits);
        var verifier = new ArcVerifier(locator) { MinimumRsaKeyLength = options.MinimumRsaBits };
        verifier.Disable(DkimSignatureAlgorithm.RsaSha1);
        ArcValidationResult result;
        try
        {
            result = await verifier.VerifyAsync(message, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return Fail("ARC headers MimeKit could not read: " + e.Message);
        }
        // MimeKit catches every exception while verifying a signature, cancellation included.
        ct.ThrowIfCancellationRequested();

        switch (result.Chain)
        {
            case ArcSignatureValidationResult.Pass:
                var oldestPass = options.ComputeOldestPass
                    ? await OldestPassAsync(message, scan, locator, ct).ConfigureAwait(false)
                    : (int?)null;
                return new ArcOutcome(ArcResult.Pass, null, hops, oldestPass);
            case ArcSignatureValidationResult.None:
                // ARC headers are present but MimeKit found no usable instance (every i= missing or out of range).
                return Fail("no ARC set with a valid instance number");
            default:
                var temporary = locator.SawTemporaryFailure;
                return new ArcOutcome(ArcResult.Fail, Describe(result, scan, locator), hops, null) { TemporaryFailure = temporary };
        }

        ArcOutcome Fail(string reason) => new(ArcResult.Fail, reason, hops, null);
    }

    /// <summary>
    /// RFC 8617 5.2 step 5 (optional): verify the older ARC-Message-Signatures from N-1 down; the first that fails makes
    /// oldest-pass its instance + 1; 0 when all verify. A chain that passed has exactly one AMS per instance.
    /// </summary>
    private async Task<int> OldestPassAsync(MimeMessage message, ArcHeaderScan scan, KeyPolicyLocator locator, CancellationToken ct)
    {
        var verifier = new AmsVerifier(locator, options.MinimumRsaBits);
        for (var instance = scan.MaxInstance - 1; instance >= 1; instance--)
        {
            ct.ThrowIfCancellationRequested();
            var verified = false;
            if (scan.MessageSignature(instance) is { } ams)
            {
                try
                {
                    verified = await verifier.VerifyAsync(message, ams, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception)
                {
                    // A missing key or an unreadable signature: that AMS does not verify, like any other failure.
                }
            }
            if (!verified)
                return instance + 1;
        }
        return 0;
    }

    private static string Describe(ArcValidationResult result, ArcHeaderScan scan, KeyPolicyLocator locator)
    {
        var errors = result.ChainErrors;
        const ArcValidationErrors structure = ArcValidationErrors.DuplicateArcAuthenticationResults
            | ArcValidationErrors.DuplicateArcMessageSignature | ArcValidationErrors.DuplicateArcSeal
            | ArcValidationErrors.MissingArcAuthenticationResults | ArcValidationErrors.MissingArcMessageSignature
            | ArcValidationErrors.MissingArcSeal | ArcValidationErrors.InvalidArcAuthenticationResults
            | ArcValidationErrors.InvalidArcMessageSignature | ArcValidationErrors.InvalidArcSeal;
        if ((errors & structure) != 0)
            return "broken ARC set structure: " + (errors & structure);
        if ((errors & (ArcValidationErrors.InvalidArcSealChainValidationValue | ArcValidationErrors.MissingArcSealChainValidationValue)) != 0)
            return "ARC-Seal cv= is missing or wrong (a chain already failed, or cv is not none at i=1 and pass above)";

        var failed = new List<string>();
        if (result.MessageSignature?.Signature == ArcSignatureValidationResult.Fail)
            failed.Add($"ARC-Message-Signature i={result.Seals?.Length}");
        if (result.Seals is { } seals)
        {
            for (var i = seals.Length - 1; i >= 0; i--)
            {
                if (seals[i]?.Signature == ArcSignatureValidationResult.Fail)
                    failed.Add($"ARC-Seal i={i + 1}");
            }
        }
        var why = string.Join(", ", failed) + " did not verify";
        if (locator.Problems.Count > 0)
            why += ": " + string.Join("; ", locator.Problems.Distinct());
        else if (scan.UsesRsaSha1)
            why += ": rsa-sha1 is not accepted (RFC 8301)";
        return why;
    }
}
