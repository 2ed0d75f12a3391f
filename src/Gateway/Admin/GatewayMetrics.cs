using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Tracking;
using Prometheus;

namespace Gateway.Admin;

/// <summary>
/// Every metric the gateway exports at <c>/metrics</c> (prometheus-net), with one-line recording calls for the places
/// that observe them. Process-wide, as Prometheus expects of one process: one gateway per process.
/// Recording is an interlocked add on a pre-resolved label child: label sets known in advance (outcomes, reply classes,
/// DNS results) are arrays; those named by the configuration (filters, rules, upstream hosts, deciders) are resolved once
/// and kept in a lock-free dictionary. No allocation and no lock per call.
/// </summary>
public static class GatewayMetrics
{
    /// <summary>The gateway's own registry: no default process or runtime collectors (their event listeners cost CPU).</summary>
    public static CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    private static readonly MetricFactory Factory = Prometheus.Metrics.WithCustomRegistry(Registry);

    /// <summary>Seconds, from 0.5 ms to about 33 s: a filter answering from memory and a DNS list near its budget.</summary>
    private static readonly double[] DurationBuckets = Histogram.ExponentialBuckets(0.0005, 2, 17);

    private static readonly Gauge SessionsActive = Factory.CreateGauge("gateway_sessions_active", "SMTP sessions open now");
    private static readonly Counter SessionsTotal = Factory.CreateCounter("gateway_sessions_total", "SMTP sessions accepted");

    private static readonly Counter Transactions = Factory.CreateCounter("gateway_transactions_total",
        "Finished transactions by outcome (delivered, rejected, tempfailed, quarantined, discarded, abandoned)", "outcome");
    private static readonly Counter.Child[] TransactionsBy = [.. Enum.GetValues<TransactionOutcome>().Select(o => Transactions.WithLabels(OutcomeLabel(o)))];

    private static readonly Counter Replies = Factory.CreateCounter("gateway_replies_total", "Replies sent to clients, by class", "class");
    private static readonly Counter.Child[] RepliesBy = [.. new[] { "other", "1xx", "2xx", "3xx", "4xx", "5xx" }.Select(c => Replies.WithLabels(c))];

    private static readonly Counter Decisions = Factory.CreateCounter("gateway_decisions_total",
        "Finished transactions by what decided them (a filter, rule:ID, score, upstream, client)", "by");
    private static readonly ConcurrentDictionary<string, Counter.Child> DecisionsBy = new(StringComparer.Ordinal);

    private static readonly Histogram FilterDuration = Factory.CreateHistogram("gateway_filter_duration_seconds",
        "Time each filter took to give its verdict", new HistogramConfiguration { LabelNames = ["filter"], Buckets = DurationBuckets });
    private static readonly ConcurrentDictionary<string, Histogram.Child> FilterDurationBy = new(StringComparer.Ordinal);

    private static readonly Histogram UpstreamDuration = Factory.CreateHistogram("gateway_upstream_duration_seconds",
        "Time from handing a message to the upstream to its answer", new HistogramConfiguration { Buckets = DurationBuckets });

    private static readonly Counter UpstreamErrors = Factory.CreateCounter("gateway_upstream_errors_total",
        "Upstream connections or conversations that failed (not refusals), by host", "host");
    private static readonly ConcurrentDictionary<string, UpstreamHost> UpstreamHosts = new(StringComparer.Ordinal);

    private static readonly Counter DnsQueries = Factory.CreateCounter("gateway_dns_queries_total",
        "DNS lookups by result (cached answers included)", "result");
    private static readonly Counter.Child[] DnsQueriesBy = [.. Enum.GetValues<DnsResult>().Select(r => DnsQueries.WithLabels(r.ToString().ToLowerInvariant()))];

    private static readonly Counter StateErrors = Factory.CreateCounter("gateway_state_errors_total",
        "Shared-state (Redis) operations that failed or timed out");

    /// <summary>Set before each scrape from the quarantine directory.</summary>
    public static Gauge QuarantineMessages { get; } = Factory.CreateGauge("gateway_quarantine_messages", "Messages held in the quarantine");

    private static readonly Counter ConfigReloads = Factory.CreateCounter("gateway_config_reloads_total",
        "Configuration reloads by result (ok, failed)", "result");
    private static readonly Counter.Child ReloadsOk = ConfigReloads.WithLabels("ok");
    private static readonly Counter.Child ReloadsFailed = ConfigReloads.WithLabels("failed");

    private static readonly Gauge RulesInfo = Factory.CreateGauge("gateway_rules_info", "The rule set in force (1), by hash", "hash");
    private static readonly Lock RulesGate = new();
    private static string? _rulesHash;

    private static readonly Counter RuleMatches = Factory.CreateCounter("gateway_rule_matches_total",
        "Rule matches; mode monitor counts what a rule would have done", "rule", "mode");
    private static readonly ConcurrentDictionary<(string Rule, Rules.RuleMode Mode), Counter.Child> RuleMatchesBy = new();

    public static void SessionStarted()
    {
        SessionsTotal.Inc();
        SessionsActive.Inc();
    }

    public static void SessionEnded() => SessionsActive.Dec();

    /// <summary>One reply to a client (multi-line replies count once).</summary>
    public static void Replied(int code) => RepliesBy[code is >= 100 and < 600 ? code / 100 : 0].Inc();

    public static void Transaction(TransactionRecord record)
    {
        TransactionsBy[(int)record.Outcome].Inc();
        var by = record.DecidedBy;
        if (!DecisionsBy.TryGetValue(by, out var decided))
            decided = DecisionsBy.GetOrAdd(by, static b => Decisions.WithLabels(b));
        decided.Inc();
    }

    public static void FilterEvaluated(string filter, TimeSpan elapsed)
    {
        if (!FilterDurationBy.TryGetValue(filter, out var child))
            child = FilterDurationBy.GetOrAdd(filter, static f => FilterDuration.WithLabels(f));
        child.Observe(elapsed.TotalSeconds);
    }

    /// <summary>The upstream answered (accepted or refused) a message handed to it at <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static void UpstreamAnswered(string host, long startedTimestamp)
    {
        UpstreamDuration.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        Host(host).LastAnswered = Stopwatch.GetTimestamp();
    }

    /// <summary>A connection to <paramref name="host"/> or a conversation with it failed.</summary>
    public static void UpstreamFailed(string host) => Host(host).Errors.Inc();

    /// <summary>When <paramref name="host"/> last answered a message, or null if it never did in this process.</summary>
    public static TimeSpan? SinceUpstreamAnswered(string host) =>
        UpstreamHosts.TryGetValue(host, out var h) && Volatile.Read(ref h.LastAnswered) is var t and not 0 ? Stopwatch.GetElapsedTime(t) : null;

    private static UpstreamHost Host(string host) =>
        UpstreamHosts.TryGetValue(host, out var h) ? h : UpstreamHosts.GetOrAdd(host, static name => new UpstreamHost(UpstreamErrors.WithLabels(name)));

    public static void Dns(DnsResult result) => DnsQueriesBy[(int)result].Inc();

    public static void StateError() => StateErrors.Inc();

    /// <summary>A configuration was taken (at start or by a reload): the rule set it carries becomes the one in gateway_rules_info.</summary>
    public static void ConfigLoaded(string rulesHash, bool reload)
    {
        if (reload)
            ReloadsOk.Inc();
        lock (RulesGate) // rare: start and reloads only
        {
            if (_rulesHash == rulesHash)
                return;
            if (_rulesHash is not null)
                RulesInfo.RemoveLabelled(_rulesHash);
            RulesInfo.WithLabels(rulesHash).Set(1);
            _rulesHash = rulesHash;
        }
    }

    public static void ConfigReloadFailed() => ReloadsFailed.Inc();

    public static void RuleMatched(string rule, Rules.RuleMode mode)
    {
        if (!RuleMatchesBy.TryGetValue((rule, mode), out var child))
            child = RuleMatchesBy.GetOrAdd((rule, mode), static k => RuleMatches.WithLabels(k.Rule, k.Mode == Rules.RuleMode.Monitor ? "monitor" : "enforce"));
        child.Inc();
    }

    /// <summary>gateway_rule_matches_total for one rule and mode since start (the web console's rules page).</summary>
    public static long RuleMatchCount(string rule, Rules.RuleMode mode) =>
        RuleMatchesBy.TryGetValue((rule, mode), out var child) ? (long)child.Value : 0;

    public static string OutcomeLabel(TransactionOutcome outcome) => outcome switch
    {
        TransactionOutcome.Delivered => "delivered",
        TransactionOutcome.Rejected => "rejected",
        TransactionOutcome.Tempfailed => "tempfailed",
        TransactionOutcome.Quarantined => "quarantined",
        TransactionOutcome.Discarded => "discarded",
        _ => "abandoned",
    };

    private sealed class UpstreamHost(Counter.Child errors)
    {
        public readonly Counter.Child Errors = errors;
        public long LastAnswered;
    }
}

/// <summary>The result label of gateway_dns_queries_total.</summary>
public enum DnsResult { Cached, Ok, NoData, NxDomain, Failure }

/// <summary>Counts every finished transaction by outcome and by what decided it.</summary>
public sealed class MetricsSink : ITransactionSink
{
    public void Record(TransactionRecord record) => GatewayMetrics.Transaction(record);
}
