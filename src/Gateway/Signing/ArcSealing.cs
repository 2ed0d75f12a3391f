using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Signing;

/// <summary>
/// Seals an inbound message with ARC after authentication (RFC 8617) with MimeKit's ArcSigner: our
/// Authentication-Results become instance N+1's ARC-Authentication-Results, and the chain validation status (cv=)
/// is our ARC result. A downstream system that trusts our seal can then trust our results through forwarding.
/// </summary>
public static class ArcSealing
{
    /// <summary>
    /// The three ARC header lines to prepend (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results), or ""
    /// when the message cannot be sealed (an earlier instance already sealed a failed chain).
    /// </summary>
    /// <param name="authServId">Our authserv-id (server.hostname).</param>
    /// <param name="results">Our results as (method, result, properties) in Authentication-Results order.</param>
    /// <param name="arcResult">Our ARC verdict on the chain as it arrived: none, pass or fail.</param>
    public static string Seal(MimeMessage message, SigningKey key, string authServId, IReadOnlyList<AuthenticationMethodResult> results, string arcResult,
        TimeProvider time, CancellationToken cancellationToken = default)
    {
        var before = message.Headers.Count;
        var signer = new GatewayArcSigner(key, authServId, results, arcResult, time)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        var fields = DkimSigning.FieldsToSign(message, DkimSigning.RecommendedHeaders);
        signer.Sign(SigningFormat.Options, message, fields, cancellationToken);
        return message.Headers.Count == before ? "" : SigningFormat.TakeTopHeaders(message, message.Headers.Count - before);
    }

    private sealed class GatewayArcSigner(SigningKey key, string authServId, IReadOnlyList<AuthenticationMethodResult> results, string arcResult, TimeProvider time)
        : ArcSigner(key.Key, key.Domain, key.Selector, key.Algorithm)
    {
        protected override long GetTimestamp() => time.GetUtcNow().ToUnixTimeSeconds();

        protected override AuthenticationResults GenerateArcAuthenticationResults(FormatOptions options, MimeMessage message, CancellationToken cancellationToken)
        {
            var authres = new AuthenticationResults(authServId);
            foreach (var result in results)
            {
                if (!result.Method.Equals("arc", StringComparison.OrdinalIgnoreCase))
                    authres.Results.Add(result);
            }
            // MimeKit takes cv= from the "arc" result; our checker's none/pass/fail is exactly that.
            authres.Results.Add(new AuthenticationMethodResult("arc", arcResult));
            return authres;
        }

        protected override Task<AuthenticationResults> GenerateArcAuthenticationResultsAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(GenerateArcAuthenticationResults(options, message, cancellationToken));
    }
}
