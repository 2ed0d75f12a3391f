using System.Buffers.Binary;

namespace Gateway.Detection.Bayes;

/// <summary>A learned message: its class and the learn that recorded it.</summary>
public readonly record struct LearnedMessage(bool Spam, uint Learn);

/// <summary>
/// The statistics in memory, as the file store keeps them: token counts, learned message digests and the message
/// counts per class. Learning and pruning happen here; <see cref="Write"/> and <see cref="Read"/> give the file format
/// (little-endian: "GWBAYES1", counts, tokens, messages, then an XxHash64 of all that, so a torn file is detected).
/// </summary>
public sealed class BayesData
{
    private static readonly byte[] Magic = "GWBAYES1"u8.ToArray();

    public Dictionary<ulong, TokenCount> Tokens { get; } = [];

    public Dictionary<UInt128, LearnedMessage> Messages { get; } = [];

    public long SpamMessages { get; private set; }

    public long HamMessages { get; private set; }

    /// <summary>Learns so far: each token remembers the last one that touched it.</summary>
    public long Learns { get; private set; }

    public LearnOutcome Apply(LearnItem item)
    {
        Messages.TryGetValue(item.Digest, out var known);
        var isKnown = Messages.ContainsKey(item.Digest);
        if (item.Kind == LearnKind.Forget)
        {
            if (!isKnown)
                return LearnOutcome.NotKnown;
            Count(item.Tokens, known.Spam, -1);
            Messages.Remove(item.Digest);
            return LearnOutcome.Forgotten;
        }
        var spam = item.Kind == LearnKind.Spam;
        if (isKnown && known.Spam == spam)
            return LearnOutcome.AlreadyKnown;
        if (isKnown)
            Count(item.Tokens, known.Spam, -1);
        Learns++;
        Count(item.Tokens, spam, +1);
        Messages[item.Digest] = new LearnedMessage(spam, (uint)Learns);
        return isKnown ? LearnOutcome.Moved : LearnOutcome.Learned;
    }

    private void Count(IReadOnlyList<ulong> tokens, bool spam, int delta)
    {
        if (spam)
            SpamMessages = Math.Max(0, SpamMessages + delta);
        else
            HamMessages = Math.Max(0, HamMessages + delta);
        foreach (var id in tokens)
        {
            Tokens.TryGetValue(id, out var c);
            var s = spam ? (uint)Math.Max(0, (long)c.Spam + delta) : c.Spam;
            var h = spam ? c.Ham : (uint)Math.Max(0, (long)c.Ham + delta);
            if (s + h == 0)
                Tokens.Remove(id);
            else
                Tokens[id] = new TokenCount(s, h, delta > 0 ? (uint)Learns : c.LastLearn);
        }
    }

    /// <summary>
    /// Drops tokens seen in one message only and not learned again for <see cref="BayesRetention.PruneHapaxesAfter"/>
    /// learns; then, past the caps, the least recently learned tokens and message digests.
    /// </summary>
    /// <returns>The number of tokens dropped.</returns>
    public int Prune(BayesRetention retention)
    {
        var before = Tokens.Count;
        var horizon = Learns - retention.PruneHapaxesAfter;
        if (horizon > 0)
        {
            foreach (var (id, count) in Tokens)
            {
                if (count.Total <= 1 && count.LastLearn < horizon)
                    Tokens.Remove(id);
            }
        }
        if (Tokens.Count > retention.MaxTokens)
        {
            // Keep the 90% most recently learned, so that pruning does not run again at the next learn.
            var keep = retention.MaxTokens * 9 / 10;
            var cut = Tokens.Values.Select(c => c.LastLearn).OrderDescending().ElementAt(keep);
            foreach (var (id, count) in Tokens)
            {
                if (count.LastLearn <= cut)
                    Tokens.Remove(id);
            }
        }
        if (Messages.Count > retention.MaxMessages)
        {
            var cut = Messages.Values.Select(m => m.Learn).OrderDescending().ElementAt(retention.MaxMessages * 9 / 10);
            foreach (var (digest, message) in Messages)
            {
                if (message.Learn <= cut)
                    Messages.Remove(digest);
            }
        }
        return before - Tokens.Count;
    }

    public BayesSnapshot Snapshot(string version) => new(new Dictionary<ulong, TokenCount>(Tokens), SpamMessages, HamMessages, Learns, version);

    public void Write(Stream stream)
    {
        var hash = new System.IO.Hashing.XxHash64();
        var buffer = new byte[64 * 1024];
        var used = 0;
        void Flush()
        {
            hash.Append(buffer.AsSpan(0, used));
            stream.Write(buffer, 0, used);
            used = 0;
        }
        Span<byte> Take(int n)
        {
            if (used + n > buffer.Length)
                Flush();
            var span = buffer.AsSpan(used, n);
            used += n;
            return span;
        }
        Magic.CopyTo(Take(8));
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), SpamMessages);
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), HamMessages);
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), Learns);
        BinaryPrimitives.WriteInt32LittleEndian(Take(4), Tokens.Count);
        BinaryPrimitives.WriteInt32LittleEndian(Take(4), Messages.Count);
        foreach (var (id, c) in Tokens)
        {
            var span = Take(20);
            BinaryPrimitives.WriteUInt64LittleEndian(span, id);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], c.Spam);
            BinaryPrimitives.WriteUInt32LittleEndian(span[12..], c.Ham);
            BinaryPrimitives.WriteUInt32LittleEndian(span[16..], c.LastLearn);
        }
        foreach (var (digest, m) in Messages)
        {
            var span = Take(21);
            BinaryPrimitives.WriteUInt128LittleEndian(span, digest);
            span[16] = m.Spam ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt32LittleEndian(span[17..], m.Learn);
        }
        Flush();
        Span<byte> sum = stackalloc byte[8];
        hash.GetCurrentHash(sum);
        stream.Write(sum);
    }

    /// <exception cref="InvalidDataException">Not a store file, or a damaged one (checksum).</exception>
    public static BayesData Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 48 || !file[..8].SequenceEqual(Magic))
            throw new InvalidDataException("not a Bayes store file");
        var body = file[..^8];
        if (System.IO.Hashing.XxHash64.HashToUInt64(body) != BinaryPrimitives.ReadUInt64BigEndian(file[^8..]))
            throw new InvalidDataException("the Bayes store file is damaged (checksum mismatch)");
        var data = new BayesData
        {
            SpamMessages = BinaryPrimitives.ReadInt64LittleEndian(body[8..]),
            HamMessages = BinaryPrimitives.ReadInt64LittleEndian(body[16..]),
            Learns = BinaryPrimitives.ReadInt64LittleEndian(body[24..]),
        };
        var tokens = BinaryPrimitives.ReadInt32LittleEndian(body[32..]);
        var messages = BinaryPrimitives.ReadInt32LittleEndian(body[36..]);
        if (tokens < 0 || messages < 0 || 40L + 20L * tokens + 21L * messages != body.Length)
            throw new InvalidDataException("the Bayes store file is damaged (wrong length)");
        data.Tokens.EnsureCapacity(tokens);
        var at = 40;
        for (var i = 0; i < tokens; i++, at += 20)
        {
            var span = body[at..];
            data.Tokens[BinaryPrimitives.ReadUInt64LittleEndian(span)] = new TokenCount(
                BinaryPrimitives.ReadUInt32LittleEndian(span[8..]), BinaryPrimitives.ReadUInt32LittleEndian(span[12..]), BinaryPrimitives.ReadUInt32LittleEndian(span[16..]));
        }
        for (var i = 0; i < messages; i++, at += 21)
        {
            var span = body[at..];
            data.Messages[BinaryPrimitives.ReadUInt128LittleEndian(span)] = new LearnedMessage(span[16] == 1, BinaryPrimitives.ReadUInt32LittleEndian(span[17..]));
        }
        return data;
    }
}
