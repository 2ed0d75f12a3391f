namespace Gateway.Authentication.Dmarc;

/// <summary>
/// The RFC5322.From header fields of a message and the domains of their addresses (A-label form, lower case,
/// each once). <see cref="Problem"/> is null only for exactly one From field with exactly one mailbox: then
/// <see cref="Domain"/> is the author domain. Otherwise it names what is wrong ("no-from", "multiple-from",
/// "group-syntax", "multiple-addresses", "unparseable-from") and <see cref="Domains"/> holds whatever was found.
/// </summary>
public sealed record AuthorDomainResult(IReadOnlyList<string> FromHeaders, IReadOnlyList<string> Domains, string? Problem)
{
    /// <summary>The one author domain, when there is no problem.</summary>
    public string? Domain => Problem is null && Domains.Count == 1 ? Domains[0] : null;

    public static AuthorDomainResult Single(string domain) => new([], [domain], null);
}
