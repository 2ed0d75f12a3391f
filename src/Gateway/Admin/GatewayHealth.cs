using Gateway.Runtime;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Admin;

/// <summary>One line of the readiness report: a dependency, whether it is ready, and what was seen.</summary>
public sealed record HealthCheck(string Name, bool Ready, string Detail);

/// <summary>
/// Readiness of a running gateway: configuration loaded, listeners bound, the upstream answering, and every
/// <see cref="IReadinessCheck"/> (the Redis state store, filters that depend on a service) reachable.
/// </summary>
public sealed class GatewayHealth(GatewayServer server, TimeProvider? time = null)
{
    /// <summary>A message answered by the upstream within this long counts as "answering" without probing it.</summary>
    public static readonly TimeSpan AnsweredRecently = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProbeCacheTime = TimeSpan.FromSeconds(5);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private (string Hosts, DateTimeOffset At, HealthCheck Result)? _lastProbe;

    public async Task<IReadOnlyList<HealthCheck>> CheckAsync(CancellationToken cancellationToken)
    {
        var config = server.CurrentConfig;
        var checks = new List<HealthCheck>
        {
            new("configuration", true, $"loaded, rules {config.Rules.Set.Hash}"),
            Listeners(config),
            await UpstreamAsync(config.Upstream, cancellationToken).ConfigureAwait(false),
        };
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

    private async Task<HealthCheck> UpstreamAsync(UpstreamConfig upstream, CancellationToken cancellationToken)
    {
        if (upstream.Directory is { } directory)
            // The directory is made at the first message; its parent must be there.
            return Directory.Exists(directory) || Directory.Exists(Path.GetDirectoryName(directory))
                ? new HealthCheck("upstream", true, $"directory {directory}")
                : new HealthCheck("upstream", false, $"directory {directory} cannot be made (no {Path.GetDirectoryName(directory)})");
        foreach (var host in upstream.Hosts)
        {
            if (GatewayMetrics.SinceUpstreamAnswered(host.ToString()) is { } since && since < AnsweredRecently)
                return new HealthCheck("upstream", true, $"{host} answered {since.TotalSeconds:0}s ago");
        }
        var hosts = string.Join(",", upstream.Hosts);
        lock (_gate)
        {
            if (_lastProbe is { } last && last.Hosts == hosts && _time.GetUtcNow() - last.At < ProbeCacheTime)
                return last.Result;
        }
        var failures = new List<string>();
        HealthCheck? result = null;
        foreach (var host in upstream.Hosts)
        {
            var why = await ProbeAsync(host, cancellationToken).ConfigureAwait(false);
            if (why is null)
            {
                result = new HealthCheck("upstream", true, $"{host} greets");
                break;
            }
            failures.Add($"{host}: {why}");
        }
        result ??= new HealthCheck("upstream", false, string.Join("; ", failures));
        lock (_gate)
            _lastProbe = (hosts, _time.GetUtcNow(), result);
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
