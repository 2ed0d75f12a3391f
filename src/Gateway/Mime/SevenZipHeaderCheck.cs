using System.Buffers;
using System.Buffers.Binary;
using SharpCompress.Compressors.LZMA;

namespace Gateway.Mime;

/// <summary>
/// Walks a 7z archive's header before SharpCompress reads it, building nothing, and says when the archive cannot
/// be listed within the limits: more entries than the limit, a header larger than that many entries can need, or
/// a decoder that would need more than <see cref="MaxDecoderMemory"/>. Malformed headers throw
/// <see cref="InvalidDataException"/> (the archive is then not readable, as for any other parser error).
/// </summary>
/// <remarks>
/// Written by hand because no package does it: SharpCompress, the maintained 7z reader for .NET, reads the whole
/// header when it opens an archive. It decodes a compressed header into one array of the size the archive
/// declares, and allocates lists of the lengths the header declares (files, folders, pack streams, digests)
/// before the first entry can be counted: a 7z of 100,000 tiny entries grew the process by 13 MB, and a header of
/// a few bytes declaring 2^31 files asks for gigabytes. LZMA decoders allocate the dictionary the archive names
/// (up to 4 GB). This follows 7-Zip's format description (7zFormat.txt): the 32-byte signature header, then the
/// header's records; every number read is checked against what is left and against the limits before use. A
/// compressed header (7-Zip's default) is decoded here once, into at most <see cref="HeaderBudget"/> bytes, with
/// SharpCompress's LZMA decoder, and walked the same way; one with an encrypting coder is left to SharpCompress,
/// which reports the archive encrypted without decoding it.
/// </remarks>
internal static class SevenZipHeaderCheck
{
    /// <summary>Memory any one decoder may ask for: 7-Zip's largest default dictionary (-mx9), as xz -9's.</summary>
    public const long MaxDecoderMemory = 64L * 1024 * 1024;

    private const int SignatureHeaderSize = 32;

    /// <summary>
    /// Bytes of header (decoded) an archive of <paramref name="maxEntries"/> entries may have: 1 KB for each (a
    /// name of 480 characters in UTF-16 with its sizes, times, attributes and CRC), and 64 KB more; never past
    /// 1 GB, whatever the limit (one array holds it).
    /// </summary>
    public static long HeaderBudget(int maxEntries) => Math.Min(64 * 1024 + 1024L * Math.Max(0, maxEntries), 1L << 30);

    /// <summary>Null when the archive at the start of <paramref name="archive"/> (seekable) can be listed within the limits.</summary>
    public static string? Check(Stream archive, int maxEntries)
    {
        try
        {
            CheckOrThrow(archive, maxEntries);
            return null;
        }
        catch (LimitException e)
        {
            return e.Message;
        }
    }

    private static void CheckOrThrow(Stream archive, int maxEntries)
    {
        Span<byte> signature = stackalloc byte[SignatureHeaderSize];
        archive.Position = 0;
        if (archive.ReadAtLeast(signature, SignatureHeaderSize, throwOnEndOfStream: false) < SignatureHeaderSize
            || !signature[..6].SequenceEqual(Magic))
            throw new InvalidDataException("no 7z signature header");
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(signature[12..]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(signature[20..]);
        if (size == 0)
            return;
        var budget = HeaderBudget(maxEntries);
        if (size > (ulong)budget)
            throw new LimitException($"a 7z header of {size} bytes, more than {maxEntries} entries can need");
        var available = (ulong)Math.Max(0, archive.Length - SignatureHeaderSize);
        if (offset > available || size > available - offset)
            throw new InvalidDataException("its header lies past its end");
        var header = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            archive.Position = SignatureHeaderSize + (long)offset;
            archive.ReadExactly(header, 0, (int)size);
            var walker = new Walker(header, (int)size, maxEntries);
            switch (walker.Number())
            {
                case Id.Header:
                    walker.Header();
                    return;
                case Id.EncodedHeader:
                    CheckEncoded(archive, walker, maxEntries, budget);
                    return;
                default:
                    throw new InvalidDataException("no header record");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    private static ReadOnlySpan<byte> Magic => [(byte)'7', (byte)'z', 0xBC, 0xAF, 0x27, 0x1C];

    /// <summary>A compressed header: its one folder's declared size is checked, then it is decoded and walked.</summary>
    private static void CheckEncoded(Stream archive, Walker encoded, int maxEntries, long budget)
    {
        var streams = encoded.StreamsInfo();
        if (streams.Folders == 0)
            return;
        if (streams.Folders != 1 || streams.First is not { } folder || streams.PackStreams < 1)
            throw new InvalidDataException("an encoded header of several folders");
        if (folder.UnpackSize > (ulong)budget)
            throw new LimitException($"a 7z header of {folder.UnpackSize} bytes, more than {maxEntries} entries can need");
        if (folder.Encrypted)
            return;
        if (folder.Coders != 1)
            throw new InvalidDataException("its header is coded with a chain of methods");
        var end = (ulong)archive.Length;
        if (streams.PackPosition > end - SignatureHeaderSize || streams.FirstPackSize > end - SignatureHeaderSize - streams.PackPosition)
            throw new InvalidDataException("its header's packed stream lies past its end");
        var length = (int)folder.UnpackSize;
        var decoded = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            archive.Position = SignatureHeaderSize + (long)streams.PackPosition;
            using (var decoder = Decoder(archive, folder, (long)streams.FirstPackSize, length))
                decoder.ReadExactly(decoded, 0, length);
            var walker = new Walker(decoded, length, maxEntries);
            if (walker.Number() != Id.Header)
                throw new InvalidDataException("no header record in the encoded header");
            walker.Header();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    /// <summary>
    /// The decoders 7-Zip and other writers use for headers (copy, LZMA, LZMA2), with a dictionary no larger than
    /// the header: the decoder never looks further back than what it has put out.
    /// </summary>
    private static Stream Decoder(Stream archive, FolderInfo folder, long packSize, int unpackSize)
    {
        var window = Math.Max(4096, unpackSize);
        switch (folder.Method)
        {
            case Method.Copy:
                return new BoundedStream(archive, unpackSize);
            case Method.Lzma when folder.Properties.Length >= 5:
            {
                var properties = folder.Properties.ToArray();
                var dictionary = BinaryPrimitives.ReadUInt32LittleEndian(properties.AsSpan(1));
                BinaryPrimitives.WriteUInt32LittleEndian(properties.AsSpan(1), (uint)Math.Min(dictionary, (uint)window));
                return LzmaStream.Create(properties, archive, packSize, unpackSize, leaveOpen: true);
            }
            case Method.Lzma2 when folder.Properties.Length >= 1:
            {
                var bits = folder.Properties[0];
                while (bits > 0 && Lzma2Dictionary(bits - 1) >= (ulong)window)
                    bits--;
                return LzmaStream.Create([(byte)bits], archive, packSize, unpackSize, presetDictionary: null, isLzma2: true, leaveOpen: true);
            }
            default:
                throw new InvalidDataException($"its header is coded with method {folder.Method:X}, which is not inspected");
        }
    }

    private static ulong Lzma2Dictionary(int bits) => bits >= 40 ? uint.MaxValue : (2UL | ((uint)bits & 1)) << (bits / 2 + 11);

    private static class Id
    {
        public const ulong End = 0, Header = 1, ArchiveProperties = 2, AdditionalStreamsInfo = 3, MainStreamsInfo = 4,
            FilesInfo = 5, PackInfo = 6, UnpackInfo = 7, SubStreamsInfo = 8, Size = 9, Crc = 10, Folder = 11,
            CodersUnpackSize = 12, NumUnpackStream = 13, EncodedHeader = 0x17;
    }

    private static class Method
    {
        public const ulong Copy = 0, Lzma = 0x030101, Lzma2 = 0x21, Ppmd = 0x030401, Aes = 0x06F10701;
    }

    /// <summary>What the walk keeps of the first folder of a streams record: enough to decode an encoded header.</summary>
    private sealed record FolderInfo(int Coders, ulong Method, byte[] Properties, bool Encrypted, ulong UnpackSize);

    private readonly record struct Streams(ulong PackPosition, ulong PackStreams, ulong FirstPackSize, int Folders, FolderInfo? First);

    /// <summary>Reads a header's records forward over a buffer, checking every number against what is left and the limits.</summary>
    private sealed class Walker(byte[] buffer, int length, int maxEntries)
    {
        private int _position;

        private const int MaxCoders = 64;

        public byte Byte() => _position < length ? buffer[_position++] : throw new InvalidDataException("its header ends early");

        /// <summary>7z's variable-length number: the leading one bits of the first byte say how many bytes follow.</summary>
        public ulong Number()
        {
            var first = Byte();
            ulong value = 0;
            byte mask = 0x80;
            for (var i = 0; i < 8; i++)
            {
                if ((first & mask) == 0)
                    return value | ((ulong)(first & (mask - 1)) << (8 * i));
                value |= (ulong)Byte() << (8 * i);
                mask >>= 1;
            }
            return value;
        }

        private void Skip(ulong count)
        {
            if (count > (ulong)(length - _position))
                throw new InvalidDataException("a header record runs past the header's end");
            _position += (int)count;
        }

        private ReadOnlySpan<byte> Bytes(ulong count)
        {
            var start = _position;
            Skip(count);
            return buffer.AsSpan(start, (int)count);
        }

        /// <summary>A count of things each of which is (or holds) an entry: more than the limit allows cannot be listed.</summary>
        private int Entries(ulong count) =>
            count > (ulong)maxEntries ? throw new LimitException($"more than {maxEntries} entries") : (int)count;

        private void WaitFor(ulong id)
        {
            for (ulong type; (type = Number()) != id;)
            {
                if (type == Id.End)
                    throw new InvalidDataException($"a header record lacks its part {id}");
                Skip(Number());
            }
        }

        /// <summary>A list of CRCs: a "defined" bit vector (or all defined), then 4 bytes for each defined one.</summary>
        private void Digests(int count)
        {
            var defined = count;
            if (Byte() == 0)
            {
                defined = 0;
                var bits = Bytes(((ulong)count + 7) / 8);
                for (var i = 0; i < count; i++)
                {
                    if ((bits[i / 8] & (0x80 >> (i % 8))) != 0)
                        defined++;
                }
            }
            Skip(4UL * (ulong)defined);
        }

        public void Header()
        {
            var id = Number();
            if (id == Id.ArchiveProperties)
            {
                while (Number() != Id.End)
                    Skip(Number());
                id = Number();
            }
            // 7-Zip never writes them; SharpCompress would decode them whole, of whatever size they declare.
            if (id == Id.AdditionalStreamsInfo)
                throw new InvalidDataException("additional header streams are not inspected");
            if (id == Id.MainStreamsInfo)
            {
                StreamsInfo();
                id = Number();
            }
            if (id == Id.End)
                return;
            if (id != Id.FilesInfo)
                throw new InvalidDataException("no file list in its header");
            // The file records after the count are read by SharpCompress within the header's bytes and this count.
            Entries(Number());
        }

        public Streams StreamsInfo()
        {
            ulong packPosition = 0, packStreams = 0, firstPackSize = 0;
            var folders = 0;
            FolderInfo? first = null;
            bool[] folderCrc = [];
            for (var id = Number(); id != Id.End; id = Number())
            {
                switch (id)
                {
                    case Id.PackInfo:
                        packPosition = Number();
                        // Up to four pack streams a folder (BCJ2), and a folder for each entry.
                        packStreams = Number();
                        if (packStreams > Math.Min(4UL * (ulong)maxEntries + MaxCoders, int.MaxValue))
                            throw new LimitException($"more than {maxEntries} entries");
                        WaitFor(Id.Size);
                        for (ulong i = 0; i < packStreams; i++)
                        {
                            var size = Number();
                            if (i == 0)
                                firstPackSize = size;
                        }
                        for (var type = Number(); type != Id.End; type = Number())
                        {
                            if (type == Id.Crc)
                                Digests((int)packStreams);
                            else
                                Skip(Number());
                        }
                        break;
                    case Id.UnpackInfo:
                        WaitFor(Id.Folder);
                        folders = Entries(Number());
                        if (Byte() != 0)
                            throw new InvalidDataException("folders stored outside the header are not inspected");
                        var outStreams = new int[folders];
                        var boundOut = new List<ulong>();
                        for (var i = 0; i < folders; i++)
                        {
                            var folder = Folder(i == 0 ? boundOut : null, out outStreams[i]);
                            first ??= folder;
                        }
                        WaitFor(Id.CodersUnpackSize);
                        for (var i = 0; i < folders; i++)
                        {
                            for (var j = 0; j < outStreams[i]; j++)
                            {
                                var size = Number();
                                // A folder's size is that of its one out stream no bind pair takes (the last such).
                                if (i == 0 && !boundOut.Contains((ulong)j))
                                    first = first! with { UnpackSize = size };
                            }
                        }
                        folderCrc = new bool[folders];
                        for (var type = Number(); type != Id.End; type = Number())
                        {
                            if (type != Id.Crc)
                            {
                                Skip(Number());
                                continue;
                            }
                            var all = Byte() != 0;
                            var bits = all ? default : Bytes(((ulong)folders + 7) / 8);
                            for (var i = 0; i < folders; i++)
                            {
                                folderCrc[i] = all || (bits[i / 8] & (0x80 >> (i % 8))) != 0;
                                if (folderCrc[i])
                                    Skip(4);
                            }
                        }
                        break;
                    case Id.SubStreamsInfo:
                        SubStreamsInfo(folderCrc);
                        break;
                    default:
                        throw new InvalidDataException($"unknown streams record {id}");
                }
            }
            return new Streams(packPosition, packStreams, firstPackSize, folders, first);
        }

        private void SubStreamsInfo(bool[] folderCrc)
        {
            var folders = folderCrc.Length;
            var substreams = new int[folders];
            Array.Fill(substreams, 1);
            var type = Number();
            for (; type != Id.Size && type != Id.Crc && type != Id.End; type = Number())
            {
                if (type != Id.NumUnpackStream)
                {
                    Skip(Number());
                    continue;
                }
                long total = 0;
                for (var i = 0; i < folders; i++)
                {
                    substreams[i] = Entries(Number());
                    total += substreams[i];
                    Entries((ulong)total);
                }
            }
            if (type == Id.Size)
            {
                for (var i = 0; i < folders; i++)
                {
                    for (var j = 1; j < substreams[i]; j++)
                        Number();
                }
                type = Number();
            }
            for (; type != Id.End; type = Number())
            {
                if (type != Id.Crc)
                {
                    Skip(Number());
                    continue;
                }
                var digests = 0;
                for (var i = 0; i < folders; i++)
                {
                    if (substreams[i] != 1 || !folderCrc[i])
                        digests += substreams[i];
                }
                Digests(digests);
            }
        }

        /// <summary>One folder: its coders (methods with their properties) and how their streams are bound.</summary>
        /// <summary>One folder; its description only for the first (<paramref name="boundOut"/> given), the one an encoded header has.</summary>
        private FolderInfo? Folder(List<ulong>? boundOut, out int outStreams)
        {
            var coders = Number();
            if (coders is 0 or > MaxCoders)
                throw new InvalidDataException($"a folder of {coders} coders");
            ulong inStreams = 0, outs = 0, method = 0;
            var properties = ReadOnlySpan<byte>.Empty;
            var encrypted = false;
            for (ulong c = 0; c < coders; c++)
            {
                var flags = Byte();
                var idSize = flags & 0xF;
                if (idSize > 8)
                    throw new InvalidDataException("a method id longer than 8 bytes");
                ulong id = 0;
                foreach (var b in Bytes((ulong)idSize))
                    id = (id << 8) | b;
                ulong coderIn = 1, coderOut = 1;
                if ((flags & 0x10) != 0)
                {
                    coderIn = Number();
                    coderOut = Number();
                }
                var props = (flags & 0x20) != 0 ? Bytes(Number()) : [];
                if ((flags & 0x80) != 0)
                    throw new InvalidDataException("alternative methods are not inspected");
                CheckMemory(id, props);
                encrypted |= id == Method.Aes;
                if (c == 0)
                {
                    method = id;
                    properties = props;
                }
                inStreams += coderIn;
                outs += coderOut;
                if (inStreams > MaxCoders || outs > MaxCoders)
                    throw new InvalidDataException("a folder of more than 64 streams");
            }
            if (outs == 0 || inStreams < outs - 1)
                throw new InvalidDataException("a folder whose streams do not bind");
            for (ulong i = 0; i < outs - 1; i++)
            {
                Number();
                var outIndex = Number();
                boundOut?.Add(outIndex);
            }
            var packed = inStreams - (outs - 1);
            if (packed > 1)
            {
                for (ulong i = 0; i < packed; i++)
                    Number();
            }
            outStreams = (int)outs;
            return boundOut is null ? null : new FolderInfo((int)coders, method, properties.ToArray(), encrypted, 0);
        }

        /// <summary>LZMA, LZMA2 and PPMd allocate what their properties name: a dictionary, a model.</summary>
        private static void CheckMemory(ulong method, ReadOnlySpan<byte> properties)
        {
            ulong memory = method switch
            {
                Method.Lzma or Method.Ppmd when properties.Length >= 5 => BinaryPrimitives.ReadUInt32LittleEndian(properties[1..]),
                Method.Lzma2 when properties.Length >= 1 => Lzma2Dictionary(properties[0]),
                _ => 0,
            };
            if (memory > MaxDecoderMemory)
                throw new LimitException($"a 7z coder needing {memory / (1024 * 1024)} MB to decode (more than {MaxDecoderMemory / (1024 * 1024)} MB)");
        }
    }

    /// <summary>At most <paramref name="length"/> bytes of <paramref name="inner"/>: a stored header.</summary>
    private sealed class BoundedStream(Stream inner, long length) : ReadOnlyForwardStream
    {
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= n;
            return n;
        }

    }

    private sealed class LimitException(string message) : Exception(message);
}
