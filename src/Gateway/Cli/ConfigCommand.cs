using System.Globalization;
using Gateway.Configuration;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway config</c>: the effective configuration, defaults included, one <c>section.key = value</c> a line with the
/// names gateway.yaml uses (as Postfix's postconf prints main.cf).
/// </summary>
public static class ConfigCommand
{
    public static int Run(string configPath, TextWriter stdout, TextWriter stderr)
    {
        if (CheckCommand.Load(configPath, stderr) is not { } config)
            return 1;
        foreach (var (key, value) in Settings(config))
            stdout.WriteLine($"{key} = {value}");
        return 0;
    }

    public static IEnumerable<(string Key, string Value)> Settings(GatewayConfig c)
    {
        static string D(TimeSpan t) => t.TotalMilliseconds % 1000 != 0 ? $"{t.TotalMilliseconds:0}ms"
            : t.TotalSeconds % 3600 == 0 && t.TotalSeconds > 0 ? $"{t.TotalHours:0}h"
            : t.TotalSeconds % 60 == 0 && t.TotalSeconds > 0 ? $"{t.TotalMinutes:0}m" : $"{t.TotalSeconds:0}s";
        static string L<T>(IEnumerable<T> items) => string.Join(", ", items);
        static string N(double? n) => n is { } v ? v.ToString("0.##", CultureInfo.InvariantCulture) : "never";
        static string E<T>(T e) where T : struct, Enum => e.ToString().ToLowerInvariant();

        yield return ("server.listen", L(c.Server.Listen));
        yield return ("server.hostname", c.Server.Hostname);
        yield return ("server.tls", c.Server.Tls is { } tls ? $"certificate {tls.CertificatePath}, key {tls.KeyPath}" : "off");
        yield return ("server.proxy_protocol.trusted", L(c.Server.ProxyTrusted));
        yield return ("server.drain_timeout", D(c.Server.DrainTimeout));
        yield return ("server.greeting_delay", D(c.Server.GreetingDelay));
        yield return ("server.early_talker", E(c.Server.EarlyTalker));
        yield return ("server.early_talker_score", N(c.Server.EarlyTalkerScore));
        yield return ("limits.max_message_size", c.Limits.MaxMessageSize.ToString(CultureInfo.InvariantCulture));
        yield return ("limits.max_recipients", $"{c.Limits.MaxRecipients}");
        yield return ("limits.max_recipient_overshoot", $"{c.Limits.MaxRecipientOvershoot}");
        yield return ("limits.max_connections", $"{c.Limits.MaxConnections}");
        yield return ("limits.max_connections_per_ip", $"{c.Limits.MaxConnectionsPerIp}");
        yield return ("limits.command_timeout", D(c.Limits.CommandTimeout));
        yield return ("limits.data_timeout", D(c.Limits.DataTimeout));
        yield return ("limits.session_timeout", D(c.Limits.SessionTimeout));
        yield return ("limits.max_errors", $"{c.Limits.MaxErrors}");
        yield return ("relay.domains", L(c.Relay.Domains));
        yield return ("relay.networks", L(c.Relay.Networks));
        if (c.Upstream.Directory is { } dir)
            yield return ("upstream.directory", dir);
        else
            yield return ("upstream.hosts", L(c.Upstream.Hosts));
        yield return ("upstream.tls", E(c.Upstream.Tls));
        yield return ("upstream.verify_certificate", c.Upstream.VerifyCertificate ? "true" : "false");
        yield return ("upstream.timeout", D(c.Upstream.Timeout));
        yield return ("upstream.pool_size", $"{c.Upstream.PoolSize}");
        yield return ("upstream.idle_timeout", D(c.Upstream.IdleTimeout));
        yield return ("pipeline.delay_reject", c.Pipeline.DelayReject ? "true" : "false");
        foreach (var (phase, filters) in c.Pipeline.Phases.OrderBy(p => p.Key))
            yield return ($"pipeline.{Pipeline.Phases.Name(phase)}", L(filters.Select(f => f.Name == f.Type ? f.Type : $"{f.Name} ({f.Type})")));
        yield return ("rules.files", L(c.Rules.Files));
        yield return ("rules.on_error", E(c.Rules.OnError));
        yield return ("rules.budget", D(c.Rules.Budget));
        yield return ("rules (loaded)", $"{c.Rules.Set.Rules.Count} rules, hash {c.Rules.Set.Hash}");
        yield return ("policy.bare_line_endings", E(c.Policy.BareLineEndings));
        yield return ("policy.thresholds.add_header", N(c.Policy.Thresholds.AddHeader));
        yield return ("policy.thresholds.rewrite_subject", N(c.Policy.Thresholds.RewriteSubject));
        yield return ("policy.thresholds.quarantine", N(c.Policy.Thresholds.Quarantine));
        yield return ("policy.thresholds.reject", N(c.Policy.Thresholds.Reject));
        yield return ("policy.score_header", c.Policy.ScoreHeader);
        yield return ("policy.symbols_header", c.Policy.SymbolsHeader);
        yield return ("policy.subject_prefix", $"\"{c.Policy.SubjectPrefix}\"");
        yield return ("quarantine.directory", c.Quarantine.Directory ?? "none");
        yield return ("quarantine.reply", c.Quarantine.Reply.ToString());
        yield return ("mime.max_depth", $"{c.Mime.MaxDepth}");
        yield return ("mime.max_parts", $"{c.Mime.MaxParts}");
        yield return ("mime.archive_max_bytes", $"{c.Mime.MaxArchiveBytes}");
        yield return ("mime.archive_max_entries", $"{c.Mime.MaxArchiveEntries}");
        yield return ("mime.archive_max_ratio", $"{c.Mime.MaxArchiveRatio}");
        yield return ("mime.archive_max_nesting", $"{c.Mime.MaxArchiveNesting}");
        yield return ("dns.servers", c.Dns.Servers.Count == 0 ? "system (/etc/resolv.conf)" : L(c.Dns.Servers));
        yield return ("dns.timeout", D(c.Dns.Timeout));
        yield return ("dns.retries", $"{c.Dns.Retries}");
        yield return ("dns.cache_entries", $"{c.Dns.CacheEntries}");
        yield return ("authentication.dkim_max_signatures", $"{c.Authentication.DkimMaxSignatures}");
        yield return ("authentication.trusted_arc_sealers", L(c.Authentication.TrustedArcSealers));
        yield return ("authentication.public_suffix_list", c.Authentication.PublicSuffixListPath ?? "built-in");
        yield return ("state.backend", E(c.State.Backend));
        yield return ("state.on_backend_error", E(c.State.OnBackendError));
        yield return ("state.redis.endpoint", c.State.RedisEndpoint.ToString());
        yield return ("state.redis.key_prefix", c.State.KeyPrefix);
        yield return ("state.redis.timeout", D(c.State.Timeout));
        yield return ("logging.format", E(c.Logging.Format));
        yield return ("logging.level", Logging.LogLevels.Name(c.Logging.Level));
        yield return ("admin.listen", c.Admin is { } admin ? L(admin.Listen) : "off");
        if (c.Admin is { } console)
        {
            // Names only: the hashes stay in gateway.yaml.
            yield return ("admin.users", console.ConsoleEnabled ? string.Join(", ", console.Users.Select(u => u.Name)) + " (web console on)" : "none (web console off)");
            yield return ("admin.tls", console.Tls is { } adminTls ? $"{adminTls.CertificatePath}, {adminTls.KeyPath}" : "off");
            yield return ("admin.lockout", $"failures {console.Lockout.Failures}, duration {D(console.Lockout.Duration)}, delay {D(console.Lockout.Delay)}");
            yield return ("admin.keys", console.KeysDirectory ?? "in memory (a restart logs everyone out)");
        }
        yield return ("milter.listen", c.Milter is { } milter ? L(milter.Listen) : "off");
        if (c.Milter is { } m)
        {
            yield return ("milter.quarantine", E(m.Quarantine));
            yield return ("milter.max_connections", m.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture));
            yield return ("milter.command_timeout", D(m.CommandTimeout));
            yield return ("milter.session_timeout", D(m.SessionTimeout));
        }
    }
}
