using System.Text;
using Gateway.Configuration;
using Gateway.Detection.Bayes;
using Gateway.State;
using Gateway.Tests.State;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection.Bayes;

/// <summary>What both stores must do alike: count a message once, move it, forget it.</summary>
public abstract class BayesStoreContract
{
    protected static readonly BayesTokenizer Tokenizer = new(BayesLimits.Default);

    protected static LearnItem Item(string message, LearnKind kind)
    {
        var m = BayesMessage.Read(new MemoryStream(Encoding.UTF8.GetBytes(message)), Tokenizer);
        return new LearnItem(m.Digest, kind, m.TokenIds);
    }

    protected abstract IBayesStore NewStore();

    [Fact]
    public async Task Learning_the_same_message_twice_counts_once_and_as_the_other_class_moves_it()
    {
        await using var store = NewStore();
        var spam = BayesCorpus.Spam(1);
        Assert.Equal([LearnOutcome.Learned, LearnOutcome.AlreadyKnown], await store.LearnAsync([Item(spam, LearnKind.Spam), Item(spam, LearnKind.Spam)], default));
        // The same message relayed again (another Received line, CRLF turned into LF) is still the same message.
        Assert.Equal([LearnOutcome.AlreadyKnown], await store.LearnAsync([Item("Received: from relay.example\r\n" + spam.Replace("\r\n", "\n"), LearnKind.Spam)], default));
        var once = (await store.LoadAsync(null, default))!;
        Assert.Equal((1, 0), (once.SpamMessages, once.HamMessages));
        var token = Item(spam, LearnKind.Spam).Tokens[0];
        Assert.Equal(1u, once.Tokens[token].Spam);

        Assert.Equal([LearnOutcome.Moved], await store.LearnAsync([Item(spam, LearnKind.Ham)], default));
        var moved = (await store.LoadAsync(null, default))!;
        Assert.Equal((0, 1), (moved.SpamMessages, moved.HamMessages));
        Assert.Equal((0u, 1u), (moved.Tokens[token].Spam, moved.Tokens[token].Ham));
    }

    [Fact]
    public async Task Forget_removes_a_learned_message_and_its_tokens()
    {
        await using var store = NewStore();
        await store.LearnAsync([Item(BayesCorpus.Ham(1), LearnKind.Ham), Item(BayesCorpus.Ham(2), LearnKind.Ham)], default);
        Assert.Equal([LearnOutcome.Forgotten, LearnOutcome.NotKnown],
            await store.LearnAsync([Item(BayesCorpus.Ham(1), LearnKind.Forget), Item(BayesCorpus.Ham(3), LearnKind.Forget)], default));
        var snapshot = (await store.LoadAsync(null, default))!;
        Assert.Equal(1, snapshot.HamMessages);
        var onlyInFirst = Item(BayesCorpus.Ham(1), LearnKind.Ham).Tokens.Except(Item(BayesCorpus.Ham(2), LearnKind.Ham).Tokens).First();
        Assert.False(snapshot.Tokens.ContainsKey(onlyInFirst));
        // Learning it again after forgetting counts it again.
        Assert.Equal([LearnOutcome.Learned], await store.LearnAsync([Item(BayesCorpus.Ham(1), LearnKind.Ham)], default));
    }

    [Fact]
    public async Task An_unchanged_store_is_not_read_again()
    {
        await using var store = NewStore();
        await store.LearnAsync([Item(BayesCorpus.Spam(1), LearnKind.Spam)], default);
        var first = (await store.LoadAsync(null, default))!;
        Assert.Null(await store.LoadAsync(first.Version, default));
        await store.LearnAsync([Item(BayesCorpus.Spam(2), LearnKind.Spam)], default);
        Assert.Equal(2, (await store.LoadAsync(first.Version, default))!.SpamMessages);
    }
}

public sealed class BayesFileStoreTests : BayesStoreContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    private string StorePath => Path.Combine(_directory.Path, "bayes.db");

    protected override IBayesStore NewStore() => new BayesFileStore(StorePath, BayesRetention.Default);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_crash_mid_write_leaves_the_previous_statistics_intact()
    {
        var store = new BayesFileStore(StorePath, BayesRetention.Default);
        await store.LearnAsync([Item(BayesCorpus.Spam(1), LearnKind.Spam), Item(BayesCorpus.Ham(1), LearnKind.Ham)], default);
        var before = await File.ReadAllBytesAsync(StorePath);

        // The process "dies" after 100 bytes of the new file: the write fails there and nothing else happens.
        store.WriteInterceptor = stream => new FailingStream(stream, 100);
        await Assert.ThrowsAsync<IOException>(() => store.LearnAsync([Item(BayesCorpus.Spam(2), LearnKind.Spam)], default));
        // A crash would also leave the partial temporary file behind: it must not be taken for the store.
        await File.WriteAllBytesAsync(StorePath + ".123.abc.tmp", before.AsSpan(0, 100).ToArray());

        Assert.Equal(before, await File.ReadAllBytesAsync(StorePath));
        var reopened = new BayesFileStore(StorePath, BayesRetention.Default);
        var snapshot = (await reopened.LoadAsync(null, default))!;
        Assert.Equal((1, 1), (snapshot.SpamMessages, snapshot.HamMessages));
        Assert.Equal([LearnOutcome.Learned], await reopened.LearnAsync([Item(BayesCorpus.Spam(2), LearnKind.Spam)], default));
    }

    [Fact]
    public async Task A_damaged_file_is_detected_and_the_filter_abstains_instead_of_failing_mail()
    {
        var store = new BayesFileStore(StorePath, BayesRetention.Default);
        await store.LearnAsync([Item(BayesCorpus.Spam(1), LearnKind.Spam)], default);
        var bytes = await File.ReadAllBytesAsync(StorePath);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(StorePath, bytes);

        await Assert.ThrowsAsync<InvalidDataException>(() => store.LoadAsync(null, default));
        var logs = new LogCollector();
        var statistics = new BayesStatistics(store, TimeSpan.FromMinutes(1), TimeProvider.System) { Logger = logs.Factory.CreateLogger("bayes") };
        Assert.Equal(0, (await statistics.GetAsync(default)).SpamMessages);
        Assert.Contains(logs.Lines, l => l.Contains("checksum", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tokens_seen_once_are_pruned_after_the_configured_number_of_learns()
    {
        var store = new BayesFileStore(StorePath, new BayesRetention(PruneHapaxesAfter: 100, MaxTokens: 1_000_000, MaxMessages: 1_000_000));
        var first = Item(BayesCorpus.Spam(0), LearnKind.Spam);
        await store.LearnAsync([first], default);
        var unique = new LearnItem(UInt128.One, LearnKind.Spam, [0xDEADBEEF]);
        await store.LearnAsync([unique], default);
        await store.LearnAsync([.. Enumerable.Range(1, 150).Select(i => Item(BayesCorpus.Ham(i), LearnKind.Ham))], default);
        var snapshot = (await store.LoadAsync(null, default))!;
        Assert.False(snapshot.Tokens.ContainsKey(0xDEADBEEF));
        // A token learned again recently stays (h:subject is in every message).
        Assert.Contains(first.Tokens, snapshot.Tokens.ContainsKey);
    }

    private sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        private int _written;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter)
            {
                inner.Write(buffer[..(failAfter - _written)]);
                throw new IOException("simulated crash");
            }
            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

public sealed class BayesRedisStoreTests(RedisFixture redis) : BayesStoreContract, IClassFixture<RedisFixture>
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";

    private StateConfig State => StateConfig.Default with { Backend = StateBackend.Redis, RedisEndpoint = new HostPort("127.0.0.1", redis.Server.Port), KeyPrefix = _prefix };

    protected override IBayesStore NewStore() => new BayesRedisStore(State, BayesRetention.Default);

    [Fact]
    public async Task Two_gateways_sharing_redis_score_with_the_same_statistics()
    {
        await using var gatewayA = new BayesRedisStore(State, BayesRetention.Default);
        await using var gatewayB = new BayesRedisStore(State, BayesRetention.Default);
        // Each gateway learns half; both see all of it.
        await gatewayA.LearnAsync([.. Enumerable.Range(0, 30).Select(i => Item(BayesCorpus.Spam(i), LearnKind.Spam))], default);
        await gatewayB.LearnAsync([.. Enumerable.Range(0, 30).Select(i => Item(BayesCorpus.Ham(i), LearnKind.Ham))], default);
        // The same message learned by the other gateway counts once.
        Assert.Equal([LearnOutcome.AlreadyKnown], await gatewayB.LearnAsync([Item(BayesCorpus.Spam(3), LearnKind.Spam)], default));

        var a = (await gatewayA.LoadAsync(null, default))!;
        var b = (await gatewayB.LoadAsync(null, default))!;
        Assert.Equal((30, 30), (a.SpamMessages, a.HamMessages));
        Assert.Equal(a.Version, b.Version);
        Assert.Equal(a.Tokens.OrderBy(t => t.Key), b.Tokens.OrderBy(t => t.Key));
        var probe = Item(BayesCorpus.Spam(5, seed: 9), LearnKind.Spam);
        var tokens = BayesMessage.Read(new MemoryStream(Encoding.UTF8.GetBytes(BayesCorpus.Spam(5, seed: 9))), Tokenizer).Tokens;
        var pa = BayesClassifier.Classify(tokens, a, BayesParameters.Default).Probability;
        Assert.Equal(pa, BayesClassifier.Classify(tokens, b, BayesParameters.Default).Probability);
        Assert.True(pa > 0.9);
        Assert.NotEmpty(probe.Tokens);
    }
}
