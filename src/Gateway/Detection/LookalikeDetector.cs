using System.Globalization;
using Gateway.Authentication.Dmarc;

namespace Gateway.Detection;

/// <summary>
/// Finds domains that imitate protected ones (the domains we receive mail for, and brand domains): confusable
/// characters (TR39 skeletons), digits for letters, one edit of the registrable name, the same name under another
/// TLD, and the protected name used inside someone else's domain. Names are compared by registrable domain (Public
/// Suffix List): a protected domain, its subdomains and anything under the same registrable domain are never
/// look-alikes. Built once per configuration; thread-safe.
/// </summary>
/// <remarks>
/// Short names collide with real domains by chance, so the looser comparisons need length: one edit needs a
/// registrable name of <see cref="MinEditLength"/> letters (ibm.com is one edit from ibn.com, a real site), and
/// another TLD needs <see cref="MinOtherTldLength"/> (bbc.com and bbc.co.uk have different owners). The skeleton
/// and digit comparisons are exact and apply from 3 letters. Inside another domain only the whole registrable
/// domain counts (corp.example, corp-example), never the name alone: tenants such as contoso.sharepoint.com and
/// brand-owned names such as google-analytics.com use it legitimately.
/// </remarks>
public sealed class LookalikeDetector
{
    public const int MinEditLength = 5;
    public const int MinOtherTldLength = 4;
    private const int MinExactLength = 3;

    private static readonly IdnMapping Idn = new() { AllowUnassigned = true, UseStd3AsciiRules = false };

    private sealed record Protected(string Domain, string DottedDomain, string Registrable, string DottedRegistrable, string Label, string UnicodeLabel, string Suffix, string Skeleton, string[] NameTokens);

    private readonly List<Protected> _protected = [];
    private readonly PublicSuffixList _psl;

    public LookalikeDetector(IEnumerable<string> protectedDomains, PublicSuffixList? psl = null)
    {
        _psl = psl ?? PublicSuffixList.Default;
        foreach (var domain in protectedDomains)
        {
            if (DomainNames.ToAscii(domain) is not { } ascii || _psl.RegistrableDomain(ascii) is not { } registrable)
                continue;
            var (label, suffix) = Split(registrable);
            var unicodeLabel = ToUnicode(label);
            _protected.Add(new Protected(ascii, "." + ascii, registrable, "." + registrable + ".", label, unicodeLabel, suffix, Confusables.DomainSkeleton(unicodeLabel),
                registrable.Split('.', '-')));
        }
    }

    public IReadOnlyList<string> ProtectedDomains => [.. _protected.Select(p => p.Domain)];

    /// <summary>Whether the name is a protected domain, one of its subdomains, or shares its registrable domain.</summary>
    public bool IsProtected(string ascii, string? registrable) =>
        _protected.Any(p => ascii == p.Domain || ascii.EndsWith(p.DottedDomain, StringComparison.Ordinal) || registrable == p.Registrable);

    /// <summary>The first protected domain this name imitates, or null (also for names that are not valid domains).</summary>
    public LookalikeFinding? Check(string? domain)
    {
        if (_protected.Count == 0 || DomainNames.ToAscii(domain) is not { } ascii || _psl.RegistrableDomain(ascii) is not { } registrable)
            return null;
        if (IsProtected(ascii, registrable))
            return null;
        var (label, suffix) = Split(registrable);
        var unicodeLabel = ToUnicode(label);
        var shown = ascii.Contains("xn--", StringComparison.Ordinal) ? $"{ToUnicode(ascii)} ({ascii})" : ascii;
        string? skeleton = null;
        foreach (var p in _protected)
        {
            if (CompareName(p, label, unicodeLabel, suffix, ref skeleton) is { } kind)
                return new LookalikeFinding(shown, p.Domain, kind);
        }
        // Only the labels the owner of the registrable domain chose can hold hyphenated words: not the suffix's.
        var dotted = "." + ascii + ".";
        var words = ascii[..(ascii.Length - registrable.Length + registrable.IndexOf('.'))].Split('.')
            .Where(l => l.Contains('-')).Select(l => l.Split('-')).ToList();
        foreach (var p in _protected)
        {
            if (IsEmbedded(p, dotted, words))
                return new LookalikeFinding(shown, p.Domain, LookalikeKind.Embedded);
        }
        return null;
    }

    private static LookalikeKind? CompareName(Protected p, string label, string unicodeLabel, string suffix, ref string? skeleton)
    {
        if (label == p.Label)
            return suffix != p.Suffix && p.UnicodeLabel.Length >= MinOtherTldLength ? LookalikeKind.OtherTld : null;
        if (p.UnicodeLabel.Length < MinExactLength)
            return null;
        if (IsDigitsForLetters(label, p.Label))
            return LookalikeKind.Digits;
        skeleton ??= Confusables.DomainSkeleton(unicodeLabel);
        if (skeleton == p.Skeleton)
            return LookalikeKind.Confusable;
        if (p.UnicodeLabel.Length >= MinEditLength && EditDistance.IsOneEdit(unicodeLabel, p.UnicodeLabel))
            return LookalikeKind.OneEdit;
        return null;
    }

    /// <summary>c0rp for corp: same length, and every difference a digit that reads as the protected letter.</summary>
    internal static bool IsDigitsForLetters(string candidate, string protectedLabel)
    {
        if (candidate.Length != protectedLabel.Length)
            return false;
        var digits = 0;
        for (var i = 0; i < candidate.Length; i++)
        {
            var c = candidate[i];
            var p = protectedLabel[i];
            if (c == p)
                continue;
            if (!char.IsAsciiDigit(c) || !DigitLooksLike(c, p))
                return false;
            digits++;
        }
        return digits > 0;
    }

    private static bool DigitLooksLike(char digit, char letter) => digit switch
    {
        '0' => letter is 'o',
        '1' => letter is 'l' or 'i',
        '2' => letter is 'z',
        '3' => letter is 'e',
        '4' => letter is 'a',
        '5' => letter is 's',
        '6' => letter is 'b' or 'g',
        '7' => letter is 't',
        '8' => letter is 'b',
        '9' => letter is 'g' or 'q',
        _ => false,
    };

    /// <summary>
    /// The protected registrable domain as consecutive labels of the name (corp.example.evil.test), or as consecutive
    /// hyphen-separated words of one of its labels (corp-example.test, login-paypal-com.test).
    /// </summary>
    private static bool IsEmbedded(Protected p, string dotted, List<string[]> hyphenatedLabels)
    {
        if (dotted.Contains(p.DottedRegistrable, StringComparison.Ordinal))
            return true;
        foreach (var words in hyphenatedLabels)
        {
            if (ContainsRun(words, p.NameTokens))
                return true;
        }
        return false;
    }

    private static bool ContainsRun(string[] words, string[] run)
    {
        for (var i = 0; i + run.Length <= words.Length; i++)
        {
            var all = true;
            for (var j = 0; j < run.Length && all; j++)
                all = words[i + j] == run[j];
            if (all)
                return true;
        }
        return false;
    }

    private static (string Label, string Suffix) Split(string registrable)
    {
        var dot = registrable.IndexOf('.');
        return dot < 0 ? (registrable, "") : (registrable[..dot], registrable[(dot + 1)..]);
    }

    private static string ToUnicode(string ascii)
    {
        if (!ascii.Contains("xn--", StringComparison.Ordinal))
            return ascii;
        try
        {
            return Idn.GetUnicode(ascii);
        }
        catch (ArgumentException)
        {
            return ascii;
        }
    }
}
