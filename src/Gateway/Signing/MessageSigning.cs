using Gateway.Authentication;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Signing;

/// <summary>
/// At the end of DATA, on the message exactly as it will be forwarded: outbound mail (a client in
/// <c>relay.networks</c>) gets a DKIM signature for its author's domain when a key is configured; inbound mail gets
/// an ARC seal over our authentication results when <c>signing.arc</c> is set. Returns the header lines to prepend.
/// </summary>
public static class MessageSigning
{
    public static bool IsOutbound(SessionState session) => RelayPolicy.IsRelayClient(session.Remote.Address, session.Config.Relay);

    /// <param name="content">The message as it will be forwarded (seekable); left at position 0.</param>
    public static async Task<SigningResult> HeadersAsync(SessionState session, Stream content, TimeProvider time, CancellationToken cancellationToken)
    {
        var signing = session.Config.Signing;
        if (signing.IsEmpty)
            return SigningResult.None;
        var outbound = IsOutbound(session);
        if (outbound ? signing.Dkim.Count == 0 : signing.Arc is null)
            return SigningResult.None;

        // An inbound seal states our ARC verdict on the chain as it arrived (cv=), so ARC must have run.
        var arc = outbound ? null : await session.Authentication.ArcAsync(cancellationToken).ConfigureAwait(false);
        content.Position = 0;
        var message = await MimeMessage.LoadAsync(new ParserOptions { MaxMimeDepth = session.Config.Mime.MaxDepth + 1 }, content, cancellationToken)
            .ConfigureAwait(false);
        content.Position = 0;

        if (outbound)
        {
            if (message.From.Mailboxes.ToList() is not [{ Domain: { Length: > 0 } domain }])
                return new SigningResult("", "not signed: the message needs exactly one From address");
            if (signing.DkimKeyFor(domain) is not { } key)
                return new SigningResult("", $"not signed: no DKIM key for {domain}");
            return new SigningResult(DkimSigning.Sign(message, key, time, cancellationToken), $"dkim-signed d={key.Domain} s={key.Selector}");
        }

        var results = AuthenticationReport.Results(session.Authentication).Select(ToMimeKit).ToList();
        var sealedHeaders = ArcSealing.Seal(message, signing.Arc!, session.Config.Server.Hostname, results, Name(arc!.Result), time, cancellationToken);
        return sealedHeaders.Length == 0
            ? new SigningResult("", "not sealed: the ARC chain already carries a failed seal")
            : new SigningResult(sealedHeaders, $"arc-sealed i={ArcInstance(sealedHeaders)} d={signing.Arc!.Domain} cv={Name(arc.Result)}");
    }

    private static string Name(Authentication.Arc.ArcResult result) => result.ToString().ToLowerInvariant();

    private static string ArcInstance(string headers)
    {
        var at = headers.IndexOf("i=", StringComparison.Ordinal);
        var end = at < 0 ? -1 : headers.IndexOf(';', at);
        return at < 0 || end < 0 ? "?" : headers[(at + 2)..end];
    }

    private static AuthenticationMethodResult ToMimeKit(MethodResult result)
    {
        var converted = new AuthenticationMethodResult(result.Method, result.Result);
        if (result.Reason is { } reason)
            converted.Reason = reason;
        foreach (var (property, value) in result.Properties)
        {
            var dot = property.IndexOf('.');
            converted.Properties.Add(new AuthenticationMethodProperty(property[..dot], property[(dot + 1)..], value));
        }
        return converted;
    }
}

/// <summary>The header lines signing adds ("" for none) and a note for the log.</summary>
public sealed record SigningResult(string Headers, string Note)
{
    public static readonly SigningResult None = new("", "");
}
