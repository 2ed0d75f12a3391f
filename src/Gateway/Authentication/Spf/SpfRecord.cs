namespace Gateway.Authentication.Spf;

/// <summary>A parsed SPF record: its mechanisms in order and the redirect= and exp= modifiers (unknown ones dropped).</summary>
public sealed record SpfRecord(IReadOnlyList<SpfMechanism> Mechanisms, SpfMacroString? Redirect, SpfMacroString? Explanation)
{
    /// <summary>True when the TXT string is an SPF version 1 record: "v=spf1" (any case) alone or before a space (4.5).</summary>
    public static bool IsSpf1(string text) =>
        text.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase) && (text.Length == 6 || text[6] == ' ');
}
