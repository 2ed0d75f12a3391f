using System.Buffers.Binary;
using System.Globalization;
using Gateway.State;
using StackExchange.Redis;

namespace Gateway.Detection.Bayes;

/// <summary>
/// The statistics of a fleet in the Redis of the <c>state</c> section, so that every gateway scores with the same
/// counts. Three hashes under the state key prefix: <c>bayes:meta</c> (spam, ham, learns, version),
/// <c>bayes:tokens</c> (8-byte token id → "spam:ham:last learn") and <c>bayes:msgs</c> (16-byte digest → "S|H:learn").
/// Each message is learned by one Lua script, atomic across gateways; snapshots are read with HSCAN (no long block
/// of Redis) and only when the version moved. Pruning deletes a token only if it is still what was read.
/// </summary>
public sealed class BayesRedisStore : IBayesStore
{
    private const string LearnScript = """
        local meta, tokens, msgs = KEYS[1], KEYS[2], KEYS[3]
        local old = redis.call('HGET', msgs, ARGV[1])
        local oldclass = old and string.sub(old, 1, 1)
        local kind = ARGV[2]
        local function count(class, delta, seq)
          local field = class == 'S' and 'spam' or 'ham'
          local n = tonumber(redis.call('HGET', meta, field) or '0') + delta
          if n < 0 then n = 0 end
          redis.call('HSET', meta, field, n)
          for i = 3, #ARGV do
            local v = redis.call('HGET', tokens, ARGV[i])
            local s, h, t = 0, 0, 0
            if v then
              local a, b, c = string.match(v, '(%d+):(%d+):(%d+)')
              s, h, t = tonumber(a), tonumber(b), tonumber(c)
            end
            if class == 'S' then s = math.max(0, s + delta) else h = math.max(0, h + delta) end
            if delta > 0 then t = seq end
            if s + h == 0 then redis.call('HDEL', tokens, ARGV[i]) else redis.call('HSET', tokens, ARGV[i], s .. ':' .. h .. ':' .. t) end
          end
        end
        if kind == 'F' then
          if not old then return 4 end
          count(oldclass, -1, 0)
          redis.call('HDEL', msgs, ARGV[1])
          redis.call('HINCRBY', meta, 'version', 1)
          return 3
        end
        if oldclass == kind then return 1 end
        if old then count(oldclass, -1, 0) end
        local seq = redis.call('HINCRBY', meta, 'learns', 1)
        count(kind, 1, seq)
        redis.call('HSET', msgs, ARGV[1], kind .. ':' .. seq)
        redis.call('HINCRBY', meta, 'version', 1)
        if old then return 2 end
        return 0
        """;

    /// <summary>ARGV: field, expected value, field, expected value...: deletes each field still holding that value.</summary>
    private const string DeleteIfUnchangedScript = """
        local removed = 0
        for i = 1, #ARGV, 2 do
          if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
            redis.call('HDEL', KEYS[1], ARGV[i])
            removed = removed + 1
          end
        end
        return removed
        """;

    private readonly StateConfig _state;
    private readonly BayesRetention _retention;
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;
    private readonly RedisKey _meta, _tokens, _messages;

    public BayesRedisStore(StateConfig state, BayesRetention retention)
    {
        _state = state;
        _retention = retention;
        _meta = state.KeyPrefix + "bayes:meta";
        _tokens = state.KeyPrefix + "bayes:tokens";
        _messages = state.KeyPrefix + "bayes:msgs";
        // Reading a whole snapshot takes longer than one rate-limit check: its own connection with longer timeouts.
        var options = new ConfigurationOptions
        {
            EndPoints = { { state.RedisEndpoint.Host, state.RedisEndpoint.Port } },
            AbortOnConnectFail = false,
            BacklogPolicy = BacklogPolicy.FailFast,
            ConnectTimeout = 5000,
            SyncTimeout = 10_000,
            AsyncTimeout = 10_000,
            ClientName = "gateway-bayes",
        };
        _connection = new(() => ConnectionMultiplexer.ConnectAsync(options));
    }

    public string Description => $"redis {_state.RedisEndpoint}";

    private async Task<IDatabase> DatabaseAsync()
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        if (!connection.IsConnected)
            throw new StateUnavailableException($"{Description}: not connected", null);
        return connection.GetDatabase();
    }

    public async Task<BayesSnapshot?> LoadAsync(string? knownVersion, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync().ConfigureAwait(false);
        var meta = await MetaAsync(db).ConfigureAwait(false);
        if (meta.Version == knownVersion)
            return null;
        var tokens = new Dictionary<ulong, TokenCount>();
        await foreach (var entry in db.HashScanAsync(_tokens, pageSize: 5000).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (TokenId(entry.Name) is { } id && ParseCount(entry.Value) is { } count)
                tokens[id] = count;
        }
        return new BayesSnapshot(tokens, meta.Spam, meta.Ham, meta.Learns, meta.Version);
    }

    private async Task<(long Spam, long Ham, long Learns, string Version)> MetaAsync(IDatabase db)
    {
        var values = await db.HashGetAsync(_meta, ["spam", "ham", "learns", "version"]).ConfigureAwait(false);
        static long Number(RedisValue v) => v.IsNull ? 0 : (long)v;
        return (Number(values[0]), Number(values[1]), Number(values[2]), values[3].IsNull ? "0" : values[3].ToString());
    }

    public async Task<IReadOnlyList<LearnOutcome>> LearnAsync(IReadOnlyList<LearnItem> items, CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync().ConfigureAwait(false);
        var before = (await MetaAsync(db).ConfigureAwait(false)).Learns;
        // Pipelined: the scripts go out together and each runs atomically.
        var pending = items.Select(item =>
        {
            var arguments = new RedisValue[item.Tokens.Count + 2];
            arguments[0] = DigestField(item.Digest);
            arguments[1] = item.Kind switch { LearnKind.Spam => "S", LearnKind.Ham => "H", _ => "F" };
            for (var i = 0; i < item.Tokens.Count; i++)
                arguments[i + 2] = TokenField(item.Tokens[i]);
            return db.ScriptEvaluateAsync(LearnScript, [_meta, _tokens, _messages], arguments);
        }).ToList();
        var outcomes = new List<LearnOutcome>(items.Count);
        foreach (var task in pending)
        {
            var code = (int)await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            outcomes.Add(code switch { 0 => LearnOutcome.Learned, 1 => LearnOutcome.AlreadyKnown, 2 => LearnOutcome.Moved, 3 => LearnOutcome.Forgotten, _ => LearnOutcome.NotKnown });
        }
        var after = (await MetaAsync(db).ConfigureAwait(false)).Learns;
        // Prune now and then: when the learn count passes a multiple of 1,000.
        if (after / 1000 != before / 1000)
            await PruneAsync(db, after, cancellationToken).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>Drops stale hapaxes, and past the caps the least recently learned tokens and digests (as <see cref="BayesData.Prune"/>).</summary>
    internal async Task<int> PruneAsync(IDatabase db, long learns, CancellationToken cancellationToken)
    {
        var entries = new List<(RedisValue Field, RedisValue Value, TokenCount Count)>();
        await foreach (var entry in db.HashScanAsync(_tokens, pageSize: 5000).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (ParseCount(entry.Value) is { } count)
                entries.Add((entry.Name, entry.Value, count));
        }
        var horizon = learns - _retention.PruneHapaxesAfter;
        var drop = entries.Where(e => e.Count.Total <= 1 && e.Count.LastLearn < horizon).ToList();
        var remaining = entries.Count - drop.Count;
        if (remaining > _retention.MaxTokens)
        {
            var kept = entries.Where(e => !(e.Count.Total <= 1 && e.Count.LastLearn < horizon)).OrderByDescending(e => e.Count.LastLearn).ToList();
            drop.AddRange(kept.Skip(_retention.MaxTokens * 9 / 10));
        }
        var removed = 0;
        foreach (var chunk in drop.Chunk(500))
        {
            var arguments = chunk.SelectMany(e => new[] { e.Field, e.Value }).ToArray();
            removed += (int)await db.ScriptEvaluateAsync(DeleteIfUnchangedScript, [_tokens], arguments).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        if (await db.HashLengthAsync(_messages).ConfigureAwait(false) > _retention.MaxMessages)
        {
            var messages = new List<(RedisValue Field, RedisValue Value, long Learn)>();
            await foreach (var entry in db.HashScanAsync(_messages, pageSize: 5000).WithCancellation(cancellationToken).ConfigureAwait(false))
                messages.Add((entry.Name, entry.Value, long.TryParse(entry.Value.ToString().AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 0));
            foreach (var chunk in messages.OrderByDescending(m => m.Learn).Skip(_retention.MaxMessages * 9 / 10).Chunk(500))
                await db.ScriptEvaluateAsync(DeleteIfUnchangedScript, [_messages], [.. chunk.SelectMany(e => new[] { e.Field, e.Value })]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        if (removed > 0)
            await db.HashIncrementAsync(_meta, "version").ConfigureAwait(false);
        return removed;
    }

    private static RedisValue TokenField(ulong id)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, id);
        return bytes;
    }

    private static ulong? TokenId(RedisValue field)
    {
        var bytes = (byte[]?)field;
        return bytes is { Length: 8 } ? BinaryPrimitives.ReadUInt64LittleEndian(bytes) : null;
    }

    private static RedisValue DigestField(UInt128 digest)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, digest);
        return bytes;
    }

    private static TokenCount? ParseCount(RedisValue value)
    {
        var text = value.ToString().AsSpan();
        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, ':') != 3
            || !uint.TryParse(text[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            || !uint.TryParse(text[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !uint.TryParse(text[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            return null;
        return new TokenCount(s, h, t);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_connection.IsValueCreated)
            return;
        try
        {
            var connection = await _connection.Value.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (RedisException)
        {
        }
    }
}
