namespace Gateway.Mime;

/// <summary>
/// The true type of a file from its first bytes (magic numbers), whatever its name or declared content type
/// says. Only the types a mail gateway acts on; anything else is "unknown". Written by hand: a few dozen
/// signatures are not worth a libmagic binding.
/// </summary>
public static class FileTypes
{
    public const int SniffLength = 512;

    public static string Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("MZ"u8))
            return "exe";
        if (head.StartsWith("\u007fELF"u8))
            return "elf";
        if (head.Length >= 4 && (head[..4].SequenceEqual(new byte[] { 0xCF, 0xFA, 0xED, 0xFE }) || head[..4].SequenceEqual(new byte[] { 0xFE, 0xED, 0xFA, 0xCF }) || head[..4].SequenceEqual(new byte[] { 0xCA, 0xFE, 0xBA, 0xBE })))
            return "macho";
        if (head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith("PK\u0005\u0006"u8))
            return "zip";
        if (head.StartsWith(new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1 }))
            return "ole";
        if (head.StartsWith("%PDF"u8))
            return "pdf";
        if (head.StartsWith("Rar!"u8))
            return "rar";
        if (head.StartsWith("7z\u00bc\u00af\u0027\u001c"u8) || head.StartsWith(new byte[] { 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C }))
            return "7z";
        if (head.StartsWith(new byte[] { 0x1F, 0x8B }))
            return "gzip";
        if (head.StartsWith("#!"u8))
            return "script";
        if (head.StartsWith("\u0089PNG"u8) || head.StartsWith(new byte[] { 0x89, 0x50, 0x4E, 0x47 }) || head.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }) || head.StartsWith("GIF8"u8))
            return "image";
        return "unknown";
    }
}
