using System.Globalization;
using Gateway.Dns;

namespace Gateway.Authentication.Dmarc;

/// <summary>Domain names as DMARC compares them: lower case, no trailing dot, IDN labels in A-label (punycode) form.</summary>
public static class DomainNames
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = true, UseStd3AsciiRules = false };

    /// <summary>
    /// The name in A-label form, lower case, without one trailing dot; null when it is empty, has an empty label
    /// (a leading dot included), a label longer than 63 octets, is longer than 253 octets, holds characters other than
    /// letters, digits, '-' and '_', or is not a valid IDN.
    /// </summary>
    public static string? ToAscii(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return null;
        if (name.EndsWith('.'))
            name = name[..^1];
        if (name.Length == 0 || name.StartsWith('.') || name.Contains("..", StringComparison.Ordinal))
            return null;
        string ascii;
        if (IsAscii(name))
        {
            ascii = name.ToLowerInvariant();
        }
        else
        {
            try
            {
                ascii = Idn.GetAscii(name).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
        return DnsNames.IsValidQueryName(ascii) && IsHostnameText(ascii) ? ascii : null;
    }

    /// <summary>Letters, digits, hyphens, underscores and dots only: what mail domains (and _dmarc names) use.</summary>
    private static bool IsHostnameText(string ascii)
    {
        foreach (var c in ascii)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                return false;
        }
        return true;
    }

    private static bool IsAscii(string s)
    {
        foreach (var c in s)
        {
            if (c > 0x7F)
                return false;
        }
        return true;
    }
}
