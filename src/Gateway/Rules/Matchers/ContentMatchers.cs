using Gateway.Mime;
using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>
/// An attachment (a MIME part or a file inside an archive in one) meeting every given condition: name, extension,
/// declared type, sniffed type, macros, a double extension, inside an archive or not, encrypted (an encrypted
/// archive or entry, whose content cannot be inspected).
/// </summary>
public sealed class AttachmentMatcher(
    TextPattern? name,
    IReadOnlySet<string>? extensions,
    TextPattern? declaredType,
    IReadOnlySet<string>? sniffed,
    bool? macros,
    bool? doubleExtension,
    bool? inArchive,
    bool? encrypted = null) : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        foreach (var a in context.View?.Attachments ?? [])
        {
            if (name is not null && name.Match(a.Name) is null)
                continue;
            if (extensions is not null && !extensions.Contains(a.Extension))
                continue;
            if (declaredType is not null && declaredType.Match(a.DeclaredType) is null)
                continue;
            if (sniffed is not null && !sniffed.Contains(a.SniffedType))
                continue;
            if (macros is { } m && a.HasMacros != m)
                continue;
            if (doubleExtension is { } d && (a.Extensions.Count >= 2) != d)
                continue;
            if (inArchive is { } i && (a.Archive is not null) != i)
                continue;
            if (encrypted is { } e && a.Encrypted != e)
                continue;
            return MatchResult.Yes($"attachment '{TextMatcher.Truncate(a.Where)}' (extension {(a.Extension.Length == 0 ? "none" : a.Extension)}, sniffed {a.SniffedType}{(a.HasMacros ? ", macros" : "")}{(a.Encrypted ? ", encrypted" : "")}{(a.HadBidiControls ? ", bidi controls in name" : "")})");
        }
        return MatchResult.No;
    }
}

/// <summary>The message's text (text/plain, and text/html turned into text) against a pattern.</summary>
public sealed class BodyMatcher(TextPattern pattern) : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        var text = context.View?.BodyText ?? "";
        return pattern.Match(text) is { } hit ? MatchResult.Yes($"body matches {pattern}: '{TextMatcher.Truncate(hit)}'") : MatchResult.No;
    }
}

/// <summary>
/// Display-name spoofing: a From header whose display name shows one of our domains (relay.domains), or an
/// address in one, while the real address is elsewhere ("ceo@example.test" &lt;x@evil.test&gt;).
/// </summary>
public sealed class DisplayNameSpoofMatcher : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        var protectedDomains = context.Session.Config.Relay.Domains;
        foreach (var header in context.Headers?.Where(h => h.Id == MimeKit.HeaderId.From) ?? [])
        {
            if (!MimeKit.InternetAddressList.TryParse(header.Value, out var list))
                continue;
            foreach (var mailbox in list.Mailboxes)
            {
                var domain = mailbox.Domain.ToLowerInvariant();
                if (protectedDomains.Contains(domain) || string.IsNullOrWhiteSpace(mailbox.Name))
                    continue;
                var name = mailbox.Name.ToLowerInvariant();
                foreach (var ours in protectedDomains)
                {
                    if (name.Contains(ours, StringComparison.Ordinal))
                        return MatchResult.Yes($"From display name '{TextMatcher.Truncate(mailbox.Name)}' shows {ours} but the address is <{mailbox.Address}>");
                }
            }
        }
        return MatchResult.No;
    }
}

/// <summary>The host names of the links in the message (text and HTML, href attributes included).</summary>
public sealed class UrlMatcher(TextPattern pattern) : IMatcher
{
    public Phase Needs => Phase.Data;

    public MatchResult Match(FilterContext context)
    {
        foreach (var url in context.View?.Urls ?? [])
        {
            // The host and every parent domain: "domain: evil.test" catches www.evil.test too.
            for (var host = url.Host; host.Length > 0;)
            {
                if (pattern.Match(host) is not null)
                    return MatchResult.Yes($"link {TextMatcher.Truncate(url.OriginalString)} matches {pattern}");
                var dot = host.IndexOf('.');
                host = dot < 0 ? "" : host[(dot + 1)..];
            }
        }
        return MatchResult.No;
    }
}
