// Written by hand: .NET's GZipStream, which decodes the members, does not expose the header's file name; these are
// the few lines of RFC 1952 section 2.3 that reach it.
using System.Buffers.Binary;
using System.Text;

namespace Gateway.Mime;

/// <summary>
/// The file name a gzip stream's first header carries (FNAME: ISO 8859-1, ended by a zero byte), as 7-Zip and
/// <c>gzip -N</c> name the file they extract. A header is read whole within <see cref="MaxLength"/> bytes (its
/// optional extra field and name rarely take more than a few dozen): one longer, or cut short, is not readable,
/// so that a name cannot be pushed out of sight.
/// </summary>
internal static class GzipHeader
{
    public const int MaxLength = 4096;

    private const byte FlagExtra = 0x04, FlagName = 0x08;

    /// <summary>
    /// The name in the header at the start of <paramref name="head"/> (the stream's first bytes, up to
    /// <see cref="MaxLength"/>), or null when it has none.
    /// </summary>
    /// <exception cref="InvalidDataException">The header is cut short or longer than <see cref="MaxLength"/>.</exception>
    public static string? FileName(ReadOnlySpan<byte> head)
    {
        if (head.Length < 10 || head[0] != 0x1F || head[1] != 0x8B)
            throw new InvalidDataException("not a gzip header");
        var flags = head[3];
        var at = 10;
        if ((flags & FlagExtra) != 0)
        {
            if (head.Length < at + 2)
                throw TooLong();
            at += 2 + BinaryPrimitives.ReadUInt16LittleEndian(head[at..]);
        }
        if ((flags & FlagName) == 0)
            return null;
        var end = at < head.Length ? head[at..].IndexOf((byte)0) : -1;
        if (end < 0)
            throw TooLong();
        return end == 0 ? null : Encoding.Latin1.GetString(head.Slice(at, end));
    }

    private static InvalidDataException TooLong() => new($"the gzip header is cut short or longer than {MaxLength} bytes");
}
