using System.Security.Cryptography;
using System.Text;
using MimeKit;

namespace Gateway.Detection.Bayes;

/// <summary>A message ready to learn or score: its tokens and the digest that makes learning it twice count once.</summary>
public sealed record BayesMessage(UInt128 Digest, IReadOnlyList<BayesToken> Tokens)
{
    public IReadOnlyList<ulong> TokenIds => [.. Tokens.Select(t => t.Id)];

    public static BayesMessage Read(Stream raw, BayesTokenizer tokenizer)
    {
        MimeMessage message;
        try
        {
            message = MimeMessage.Load(new ParserOptions { MaxMimeDepth = 16 }, raw);
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
        {
            raw.Position = 0;
            return new BayesMessage(HashWhole(raw), [new BayesToken(BayesTokenizer.Hash("x:unparsable"), "x:unparsable")]);
        }
        return new BayesMessage(DigestOf(message), tokenizer.Tokenize(message));
    }

    /// <summary>
    /// SHA-256 (first 16 bytes) of the identifying headers (Message-ID, From, Subject, Date) and the body without CRs:
    /// the same message relayed along different paths (other Received lines) or with other line ends has one digest.
    /// </summary>
    public static UInt128 DigestOf(MimeMessage message)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in new[] { HeaderId.MessageId, HeaderId.From, HeaderId.Subject, HeaderId.Date })
            hash.AppendData(Encoding.UTF8.GetBytes((message.Headers[name] ?? "").Trim() + "\n"));
        if (message.Body is { } body)
        {
            using var sink = new HashingStream(hash);
            body.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Unix }, sink);
        }
        return First16(hash.GetHashAndReset());
    }

    private static UInt128 HashWhole(Stream raw)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var sink = new HashingStream(hash))
            raw.CopyTo(sink);
        return First16(hash.GetHashAndReset());
    }

    private static UInt128 First16(byte[] sha) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(sha);

    /// <summary>A write-only stream that feeds a hash, leaving out CR bytes.</summary>
    private sealed class HashingStream(IncrementalHash hash) : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                var cr = buffer.IndexOf((byte)'\r');
                var piece = cr < 0 ? buffer : buffer[..cr];
                hash.AppendData(piece);
                buffer = cr < 0 ? [] : buffer[(cr + 1)..];
            }
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
