using System.Buffers.Binary;

namespace Gateway.Mime;

/// <summary>
/// The true type of a file from its first bytes (magic numbers), whatever its name or declared content type
/// says. Only the types a mail gateway acts on; anything else is "unknown". Written by hand: a few dozen
/// signatures are not worth a libmagic binding.
/// </summary>
public static class FileTypes
{
    /// <summary>
    /// How much of a file is read to sniff it: enough for the tar header's "ustar" at 257 and for the PE header
    /// of any executable a linker writes (at 0x80-0x200 for Microsoft's and GNU's linkers).
    /// </summary>
    public const int SniffLength = 4096;

    /// <summary>A PE header named further than this from the start is not believed (see <see cref="IsWindowsExecutable"/>).</summary>
    private const int MaxPeOffset = 1024 * 1024;

    /// <summary>The types that are archives or compressed streams the gateway opens (<see cref="ArchiveInspector"/>).</summary>
    public static bool IsArchive(string sniffed) => sniffed is "zip" or "7z" or "rar" or "tar" or "gzip" or "bzip2" or "xz";

    /// <summary>
    /// A file named as a zip, rar or 7z archive whose first bytes are no archive: 7-Zip and WinRAR look further
    /// into it (as into a self-extracting archive) and show the archive found after the bytes put before it,
    /// which the gateway does not list. Such a file is not inspectable.
    /// </summary>
    public static bool IsDisguisedArchive(string? name, string sniffed)
    {
        if (name is null || IsArchive(sniffed) || sniffed is "exe")
            return false;
        var extension = Path.GetExtension(name.TrimEnd('.', ' ')).ToLowerInvariant();
        return extension is ".zip" or ".rar" or ".7z";
    }

    public static string Sniff(ReadOnlySpan<byte> head)
    {
        if (IsWindowsExecutable(head))
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
        if (head.StartsWith("Rar!\u001a\u0007"u8))
            return "rar";
        if (head.StartsWith(new byte[] { 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C }))
            return "7z";
        if (head.StartsWith(new byte[] { 0x1F, 0x8B }))
            return "gzip";
        if (head.StartsWith("BZh"u8) && head.Length >= 10 && head[3] is >= (byte)'1' and <= (byte)'9' && head[4..10].SequenceEqual(new byte[] { 0x31, 0x41, 0x59, 0x26, 0x53, 0x59 }))
            return "bzip2";
        if (head.StartsWith(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00 }))
            return "xz";
        // POSIX and GNU tar: "ustar" at 257 (a pre-POSIX v7 tar has no magic and is not recognised).
        if (head.Length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8))
            return "tar";
        if (head.StartsWith("#!"u8))
            return "script";
        if (head.StartsWith("\u0089PNG"u8) || head.StartsWith(new byte[] { 0x89, 0x50, 0x4E, 0x47 }) || head.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }) || head.StartsWith("GIF8"u8))
            return "image";
        return "unknown";
    }

    /// <summary>
    /// A Windows PE file (exe, dll, scr...): "MZ", and "PE\0\0" at the offset the DOS header's e_lfanew (at 0x3C)
    /// names. A text that happens to begin with the letters "MZ" is not one. When e_lfanew points past the bytes
    /// we have but within 1 MB, the file is taken as an executable without seeing its PE header: Windows would
    /// still load it, and a text's bytes at 0x3C (printable characters) name an offset above 500 MB.
    /// </summary>
    public static bool IsWindowsExecutable(ReadOnlySpan<byte> head)
    {
        if (!head.StartsWith("MZ"u8) || head.Length < 0x40)
            return false;
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(head[0x3C..]);
        if (offset > MaxPeOffset)
            return false;
        if (offset + 4 > head.Length)
            return head.Length >= SniffLength;
        return head.Slice((int)offset, 4).SequenceEqual("PE\0\0"u8);
    }
}
