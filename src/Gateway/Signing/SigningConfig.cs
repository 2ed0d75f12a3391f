namespace Gateway.Signing;

/// <summary>
/// gateway.yaml's <c>signing</c> section: DKIM keys for outbound mail (from <c>relay.networks</c>), one per signing
/// domain, and an optional ARC sealing key for inbound mail.
/// </summary>
public sealed record SigningConfig(IReadOnlyList<SigningKey> Dkim, SigningKey? Arc)
{
    public static readonly SigningConfig None = new([], null);

    public bool IsEmpty => Dkim.Count == 0 && Arc is null;

    /// <summary>
    /// The key for an author domain: its own, or else the nearest parent domain's (relaxed DMARC alignment holds
    /// for a parent in the same organisation); null when none is configured.
    /// </summary>
    public SigningKey? DkimKeyFor(string domain)
    {
        var name = domain.TrimEnd('.').ToLowerInvariant();
        while (true)
        {
            foreach (var key in Dkim)
            {
                if (key.Domain == name)
                    return key;
            }
            var dot = name.IndexOf('.');
            if (dot < 0 || name.IndexOf('.', dot + 1) < 0)
                return null; // stop before a bare TLD
            name = name[(dot + 1)..];
        }
    }

    /// <summary>Equal when the same keys (domain, selector, file) are configured, for reload comparisons.</summary>
    public string Describe() =>
        string.Join(";", Dkim.Select(k => $"{k.Domain}/{k.Selector}/{k.Path}")) + "|" + (Arc is null ? "" : $"{Arc.Domain}/{Arc.Selector}/{Arc.Path}");
}
