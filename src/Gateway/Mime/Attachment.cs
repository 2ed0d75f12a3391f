namespace Gateway.Mime;

/// <summary>
/// A file found in a message: a MIME part with a file name or a non-text body, or an entry of an archive in one
/// (zip, 7z, rar, tar, gzip, bzip2, xz, nested).
/// </summary>
/// <param name="Name">The name as a user would see it, with bidi controls removed.</param>
/// <param name="Extension">The extension Windows would act on: after trailing dots and spaces are dropped, lower case.</param>
/// <param name="DeclaredType">The declared content type (for archive entries: empty).</param>
/// <param name="SniffedType">What the first bytes say (<see cref="FileTypes"/>).</param>
/// <param name="Archive">The archive (path) it was found in, or null for a MIME part.</param>
/// <param name="HadBidiControls">The name carried Unicode direction controls (U+202E...), which disguise extensions.</param>
/// <param name="HasMacros">An Office document with a VBA project.</param>
public sealed record Attachment(string Name, string Extension, string DeclaredType, string SniffedType, string? Archive, bool HadBidiControls, bool HasMacros = false)
{
    private static readonly char[] Bidi = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F'];

    public static Attachment Create(string? rawName, string declaredType, string sniffed, string? archive, bool macros = false)
    {
        var name = rawName ?? "";
        var bidi = name.IndexOfAny(Bidi) >= 0;
        if (bidi)
            name = string.Concat(name.Where(c => Array.IndexOf(Bidi, c) < 0));
        var trimmed = name.TrimEnd('.', ' ');
        var dot = trimmed.LastIndexOf('.');
        var extension = dot < 0 ? "" : trimmed[(dot + 1)..].ToLowerInvariant();
        return new Attachment(name, extension, declaredType, sniffed, archive, bidi, macros);
    }

    /// <summary>All extensions of the name, for double-extension checks ("invoice.pdf.exe": pdf, exe).</summary>
    public IReadOnlyList<string> Extensions
    {
        get
        {
            var parts = Name.TrimEnd('.', ' ').Split('.');
            return parts.Length <= 1 ? [] : [.. parts.Skip(1).Select(p => p.Trim().ToLowerInvariant())];
        }
    }

    /// <summary>
    /// An encrypted archive or entry: its content cannot be inspected. Set on the entry itself, or on the archive
    /// when its entry list is encrypted too (7z, rar), or when SharpCompress stops at an encrypted zip entry.
    /// </summary>
    public bool Encrypted { get; init; }

    public string Where => Archive is null ? Name : $"{Name} in {Archive}";
}
