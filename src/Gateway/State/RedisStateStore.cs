using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.State;

/// <summary>
/// The state shared by several gateways, in Redis (StackExchange.Redis): each operation is one Lua script, so it is
/// atomic across gateways; every key gets an expiry. Redis being down never blocks mail for long: the connection is
/// made in the background and remade on its own, commands fail at once while there is none, and no check waits
/// longer than <see cref="StateConfig.Timeout"/>. An outage is logged once when it starts and once when it ends.
/// </summary>
public sealed class RedisStateStore : IStateStore, Admin.IReadinessCheck
{
    private readonly StateConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task<ConnectionMultiplexer> _connection;
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private long _sequence;
    private int _down;

    public RedisStateStore(StateConfig config, ILogger logger, TimeProvider time)
    {
        _config = config;
        _logger = logger;
        _time = time;
        var timeout = (int)Math.Max(config.Timeout.TotalMilliseconds, 1);
        var options = new ConfigurationOptions
        {
            EndPoints = { { config.RedisEndpoint.Host, config.RedisEndpoint.Port } },
            AbortOnConnectFail = false, // start (and keep running) without Redis; reconnect in the background
            BacklogPolicy = BacklogPolicy.FailFast, // no connection: fail now rather than queue until the timeout
            ConnectTimeout = Math.Max(timeout, 2000),
            ConnectRetry = 1,
            SyncTimeout = timeout,
            AsyncTimeout = timeout,
            ReconnectRetryPolicy = new LinearRetry(500),
            ClientName = "gateway",
        };
        _connection = ConnectAsync(options);
    }

    public string Description => _config.Description;

    public string ReadinessName => "state";

    /// <summary>Readiness: Redis answers PING within the configured timeout.</summary>
    public async ValueTask<string?> CheckReadinessAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await _connection.WaitAsync(_config.Timeout, cancellationToken).ConfigureAwait(false);
            await connection.GetDatabase().PingAsync().WaitAsync(_config.Timeout, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return $"{Description}: {(e is TimeoutException and not RedisTimeoutException ? $"no answer within {_config.Timeout.TotalMilliseconds:0} ms" : e.Message)}";
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions options)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        connection.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
                Down(e.Exception?.Message ?? e.FailureType.ToString());
        };
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
                Up();
        };
        if (connection.IsConnected)
            Up();
        else
            Down("cannot connect");
        return connection;
    }

    private void Down(string why)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
            _logger.LogWarning("state backend {Backend} unavailable: {Error}; rate limits and greylisting apply on_backend_error ({Action}) until it is back",
                Description, why, _config.OnBackendError.ToString().ToLowerInvariant());
    }

    private void Up()
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
            _logger.LogInformation("state backend {Backend} available again", Description);
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string Ms(TimeSpan span) => ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    public async ValueTask<LimitDecision> HitAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var now = Now;
        var member = $"{now}:{_instance}:{Interlocked.Increment(ref _sequence)}";
        var result = (RedisResult[])(await EvaluateAsync(RedisScripts.Hit, key,
            [now, Ms(window), limit, member], cancellationToken).ConfigureAwait(false))!;
        return new LimitDecision((long)result[0] == 1, (long)result[1], TimeSpan.FromMilliseconds((long)result[2]));
    }

    public async ValueTask<GreylistDecision> GreylistAsync(string key, GreylistTimes times, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await EvaluateAsync(RedisScripts.Greylist, key,
            [Now, Ms(times.Delay), Ms(times.RetryWindow), Ms(times.Expiry)], cancellationToken).ConfigureAwait(false))!;
        return new GreylistDecision((GreylistStatus)(long)result[0], TimeSpan.FromMilliseconds((long)result[1]));
    }

    private Task<RedisResult> EvaluateAsync(string script, string key, RedisValue[] arguments, CancellationToken cancellationToken) =>
        EvaluateAsync(script, [key], arguments, cancellationToken);

    /// <summary>
    /// Runs a script (by its SHA-1 once Redis knows it) over <paramref name="keys"/> (each put after the key prefix)
    /// within the timeout; any failure is a <see cref="StateUnavailableException"/>. Also used by the web console's
    /// lockout (<see cref="Admin.WebConsole.RedisLoginCounts"/>), so that it shares this connection and prefix.
    /// </summary>
    internal async Task<RedisResult> EvaluateAsync(string script, string[] keys, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await _connection.WaitAsync(_config.Timeout, cancellationToken).ConfigureAwait(false);
            var prefixed = Array.ConvertAll(keys, k => (RedisKey)(_config.KeyPrefix + k));
            var result = await connection.GetDatabase().ScriptEvaluateAsync(script, prefixed, arguments)
                .WaitAsync(_config.Timeout, cancellationToken).ConfigureAwait(false);
            Up();
            return result;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or InvalidCastException)
        {
            var why = e is TimeoutException and not RedisTimeoutException ? $"no answer within {_config.Timeout.TotalMilliseconds:0} ms" : e.Message;
            Down(why);
            Admin.GatewayMetrics.StateError();
            throw new StateUnavailableException($"{Description}: {why}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var connection = await _connection.ConfigureAwait(false);
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (RedisException)
        {
        }
    }
}
