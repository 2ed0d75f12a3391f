namespace Gateway.Authentication.Spf;

/// <summary>The processing limits of RFC 7208.</summary>
public static class SpfLimits
{
    /// <summary>Terms that cause DNS queries (include, a, mx, ptr, exists, redirect) per check: 4.6.4 item 1.</summary>
    public const int DnsTerms = 10;

    /// <summary>Terms whose lookup answers NXDOMAIN or no records ("void lookups") per check: 4.6.4, last paragraphs.</summary>
    public const int VoidLookups = 2;

    /// <summary>MX records an mx mechanism may return before the check is a permerror: 4.6.4 item 2.</summary>
    public const int MxNames = 10;

    /// <summary>PTR names looked at by ptr and %{p}; the rest are ignored: 4.6.4 item 3.</summary>
    public const int PtrNames = 10;

    /// <summary>A domain name after macro expansion is cut to this length from the left: 7.3.</summary>
    public const int DomainLength = 253;

    /// <summary>Octets in one DNS label: 4.3 (RFC 1035 2.3.4).</summary>
    public const int LabelLength = 63;
}
