using Gateway.Runtime;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Admin;

/// <summary>One line of the readiness report: a dependency, whether it is ready, and what was seen.</summary>
public sealed record HealthCheck(string Name, bool Ready, string Detail);

/// <summary>
/// Readiness of a running gateway: configuration loaded, listeners bound, the upstream answering (the default route
/// and every route of <c>upstream.routes</c>: one of each route's hosts), and every <see cref="IReadinessCheck"/>
/// (the Redis state store, filters that depend on a service) reachable.
/// </summary>
public sealed class GatewayHealth(GatewayServer server, TimeProvider? time = null)
{
    /// <summary>A message answered by the upstream within this long counts as "answering" without probing it.</summary>
    public static readonly TimeSpan AnsweredRecently = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProbeCacheTime = TimeSpan.FromSeconds(5);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    // The last probe of each route, by check name and hosts (a reload that changes them asks afresh).
    private readonly Dictionary<string, (DateTimeOffset At, HealthCheck Result)> _lastProbes = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<HealthCheck>> CheckAsync(CancellationToken cancellationToken)
    {
        var config = server.CurrentConfig;
        var checks = new List<HealthCheck>
        {
            new("configuration", true, $"loaded, rules {config.Rules.Set.Hash}"),
            Listeners(config),
        };
        // The default route and each route of upstream.routes, probed at once: one with no host greeting is not ready.
        checks.AddRange(await Task.WhenAll(
            [UpstreamAsync("upstream", config.Upstream, cancellationToken), .. config.Upstream.Routes.Routes.Select(r => UpstreamAsync($"upstream route {r.Name}", r.Upstream, cancellationToken))]).ConfigureAwait(false));
        var dependencies = new List<IReadinessCheck>();
        if (server.StateStore is IReadinessCheck state)
            dependencies.Add(state);
        foreach (var filter in config.Pipeline.Phases.Values.SelectMany(f => f).Select(f => f.Filter).Distinct())
        {
            if (filter is IReadinessCheck check)
                dependencies.Add(check);
        }
        var results = await Task.WhenAll(dependencies.Select(async d =>
        {
            string? why;
            try
            {
                why = await d.CheckReadinessAsync(cancellationToken).AsTask().WaitAsync(ProbeTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                why = $"no answer within {ProbeTimeout.TotalSeconds:0} s";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                why = e.Message;
            }
            return new HealthCheck(d.ReadinessName, why is null, why ?? "reachable");
        })).ConfigureAwait(false);
        checks.AddRange(results);
        return checks;
    }

    private HealthCheck Listeners(GatewayConfig config)
    {
        var bound = server.Endpoints;
        var expected = config.Server.Listen.Count;
        return bound.Count >= expected
            ? new HealthCheck("listeners", true, string.Join(", ", bound))
            : new HealthCheck("listeners", false, $"{bound.Count} of {expected} bound");
    }

    /// <param name="name">The check's name: "upstream" for the default route, "upstream route NAME" for the others.</param>
    private async Task<HealthCheck> UpstreamAsync(string name, UpstreamConfig upstream, CancellationToken cancellationToken)
    {
        if (upstream.Directory is { } directory)
            // The directory is made at the first message; its parent must be there.
            return Directory.Exists(directory) || Directory.Exists(Path.GetDirectoryName(directory))
                ? new HealthCheck(name, true, $"directory {directory}")
                : new HealthCheck(name, false, $"directory {directory} cannot be made (no {Path.GetDirectoryName(directory)})");
        foreach (var host in upstream.Hosts)
        {
            if (GatewayMetrics.SinceUpstreamAnswered(host.ToString()) is { } since && since < AnsweredRecently)
                return new HealthCheck(name, true, $"{host} answered {since.TotalSeconds:0}s ago");
        }
        var key = name + "|" + string.Join(",", upstream.Hosts);
        lock (_gate)
        {
            if (_lastProbes.TryGetValue(key, out var last) && _time.GetUtcNow() - last.At < ProbeCacheTime)
                return last.Result;
        }
        var failures = new List<string>();
        HealthCheck? result = null;
        foreach (var host in upstream.Hosts)
        {
            var why = await ProbeAsync(host, cancellationToken).ConfigureAwait(false);
            if (why is null)
            {
                result = new HealthCheck(name, true, $"{host} greets");
                break;
            }
            failures.Add($"{host}: {why}");
        }
        result ??= new HealthCheck(name, false, string.Join("; ", failures));
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            // Probes of routes a reload removed or changed are dropped once stale, so that the cache stays small.
            foreach (var stale in _lastProbes.Where(p => now - p.Value.At >= ProbeCacheTime).Select(p => p.Key).ToList())
                _lastProbes.Remove(stale);
            _lastProbes[key] = (now, result);
        }
        return result;
    }

    /// <summary>Connects, reads the greeting, says QUIT: null when the upstream greets with 220.</summary>
    private static async Task<string?> ProbeAsync(HostPort host, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(host.Host, host.Port, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[512];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var greeting = Encoding.ASCII.GetString(buffer, 0, read);
            await socket.SendAsync("QUIT\r\n"u8.ToArray(), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return greeting.StartsWith("220", StringComparison.Ordinal) ? null : $"greets with \"{UpstreamText(greeting)}\"";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no greeting within {ProbeTimeout.TotalSeconds:0} s";
        }
        catch (SocketException e)
        {
            return SocketErrors.Describe(e);
        }
    }

    private static string UpstreamText(string text) => Forwarding.UpstreamReply.Clean(text.Length > 100 ? text[..100] : text);
}
