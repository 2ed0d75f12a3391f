using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>
/// Reads <c>gateway.yaml</c> into a validated <see cref="GatewayConfig"/>. Every problem is collected
/// (file, line, column) rather than stopping at the first, and unknown keys are errors.
/// </summary>
public static partial class ConfigLoader
{
    public static ConfigResult LoadFile(string path)
    {
        var full = Path.GetFullPath(path);
        string text;
        try
        {
            text = ConfigFiles.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ConfigResult(null, [new ConfigError(path, 0, 0, $"cannot read the configuration: {e.Message}")]);
        }
        return Load(text, path, Path.GetDirectoryName(full) ?? Directory.GetCurrentDirectory());
    }

    /// <param name="text">The YAML text.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <param name="baseDirectory">Relative paths in the configuration are taken from here.</param>
    public static ConfigResult Load(string text, string fileName, string baseDirectory)
    {
        var errors = new ConfigErrorSink(fileName);
        if (!YamlText.TryLoad(text, errors, out var root))
            return new ConfigResult(null, errors.Errors);

        var top = YamlMappingReader.For(root, "", errors);
        var server = ReadServer(top.Mapping("server"), baseDirectory, out var noSmtp);
        var limits = ReadLimits(top.Mapping("limits"));
        var relay = ReadRelay(top.Mapping("relay"));
        var upstream = ReadUpstream(top.Mapping("upstream"), baseDirectory, relay);
        var pipeline = ReadPipeline(top.Mapping("pipeline"), baseDirectory);
        var rules = ReadRules(top.Mapping("rules"), baseDirectory, errors);
        var mime = ReadMime(top.Mapping("mime"));
        var quarantine = ReadQuarantine(top.Mapping("quarantine"), baseDirectory);
        var policy = ReadPolicy(top.Mapping("policy"));
        var logging = ReadLogging(top.Mapping("logging"));
        var dns = ReadDns(top.Mapping("dns"));
        var authentication = ReadAuthentication(top.Mapping("authentication"), baseDirectory);
        var state = ReadState(top.Mapping("state"));
        var signing = ReadSigning(top.Mapping("signing"), baseDirectory);
        var admin = ReadAdmin(top, baseDirectory);
        var tracking = top.Get("tracking") is null ? null : ReadTracking(top.Mapping("tracking"), baseDirectory);
        var milter = ReadMilter(top, baseDirectory);
        top.RejectUnknownKeys();

        var config = new GatewayConfig(server, limits, relay, upstream, pipeline, rules, policy, logging)
        {
            Dependencies = [.. errors.Dependencies.Order(StringComparer.Ordinal)],
            Mime = mime,
            Quarantine = quarantine,
            Dns = dns,
            Authentication = authentication,
            State = state,
            Signing = signing,
            Admin = admin,
            Tracking = tracking,
            Milter = milter,
        };
        if (noSmtp && milter is null)
            errors.Add(top.Get("server") ?? top.Node, "'server.listen' is empty and there is no 'milter' section: nothing would receive mail");
        if (quarantine.Store == Quarantine.QuarantineBackend.Database && tracking is null)
            errors.Add(top.Get("quarantine") ?? top.Node, "'quarantine.store: database' keeps the quarantine in the tracking database: add a 'tracking' section");
        if (!quarantine.IsConfigured)
        {
            if (policy.Thresholds.Quarantine is not null)
                errors.Add(top.Get("policy") ?? top.Node, "'policy.thresholds.quarantine' needs 'quarantine.directory'");
            foreach (var filter in pipeline.Phases.Values.SelectMany(f => f).Where(f => f.Filter.MayQuarantine))
                errors.Add(top.Get("pipeline") ?? top.Node, $"filter '{filter.Name}' may quarantine, but gateway.yaml has no 'quarantine.directory' (set one, or tell the filter not to quarantine)");
            foreach (var rule in rules.Set.Rules.Where(r => r.Action == Rules.RuleAction.Quarantine))
                errors.Errors.Add(new ConfigError(rule.File, rule.Line, 1, $"rule '{rule.Id}' quarantines, but gateway.yaml has no 'quarantine.directory'"));
        }
        return errors.Errors.Count == 0 ? new ConfigResult(config, []) { Warnings = errors.Warnings } : new ConfigResult(null, errors.Errors);
    }

    /// <param name="noSmtp">`listen: []` written out: no SMTP listener (valid only beside a milter section).</param>
    private static ServerConfig ReadServer(YamlMappingReader r, string baseDirectory, out bool noSmtp)
    {
        var listen = new List<IPEndPoint>();
        var listenItems = r.StringList("listen");
        foreach (var (value, node) in listenItems)
        {
            if (IPEndPoint.TryParse(value, out var ep) && value.Contains(':') && (ep.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || value.StartsWith('[')))
                listen.Add(ep);
            else
                r.Error(node, $"'server.listen' entry '{value}' must be an IP address and port, such as 0.0.0.0:25 or [::]:25");
        }
        // Absent: the default endpoint. An explicit empty list: no SMTP listener (milter only; checked in Load).
        noSmtp = listenItems.Count == 0 && r.Get("listen") is not null;
        if (listenItems.Count == 0 && !noSmtp)
            listen.Add(new IPEndPoint(IPAddress.Loopback, 2525));

        var (hostname, hostNode) = r.StringWithNode("hostname");
        hostname ??= "localhost";
        if (!IsHostName(hostname))
            r.Error(hostNode, $"'server.hostname' must be a fully qualified host name, not '{hostname}'");

        TlsConfig? tls = null;
        var tlsNode = r.Get("tls");
        if (tlsNode is not null)
        {
            var t = YamlMappingReader.For(tlsNode, "server.tls", ErrorsOf(r));
            var (cert, certNode) = t.StringWithNode("certificate");
            var (key, keyNode) = t.StringWithNode("key");
            t.RejectUnknownKeys();
            if (cert is null || key is null)
                t.Error(tlsNode, "'server.tls' needs both 'certificate' and 'key' (PEM files)");
            else
            {
                var certPath = Path.GetFullPath(cert, baseDirectory);
                var keyPath = Path.GetFullPath(key, baseDirectory);
                if (!File.Exists(certPath))
                    t.Error(certNode, $"'server.tls.certificate' file not found: {cert}");
                if (!File.Exists(keyPath))
                    t.Error(keyNode, $"'server.tls.key' file not found: {key}");
                tls = new TlsConfig(certPath, keyPath);
            }
        }

        var proxy = r.Mapping("proxy_protocol");
        var trusted = ReadNetworks(proxy, "trusted", "server.proxy_protocol.trusted");
        proxy.RejectUnknownKeys();

        var drain = r.Duration("drain_timeout", TimeSpan.FromSeconds(30));
        var greetingDelay = r.Duration("greeting_delay", TimeSpan.Zero);
        if (greetingDelay > TimeSpan.FromSeconds(30))
            r.Error(r.Get("greeting_delay"), "'server.greeting_delay' must be at most 30s (senders give up after a few minutes)");
        var earlyTalker = r.Enum("early_talker", EarlyTalkerAction.Reject);
        var earlyTalkerScore = r.Number("early_talker_score") ?? 5;
        r.RejectUnknownKeys();
        return new ServerConfig(listen, hostname, tls, trusted, drain)
        {
            GreetingDelay = greetingDelay,
            EarlyTalker = earlyTalker,
            EarlyTalkerScore = earlyTalkerScore,
        };
    }

    private static LimitsConfig ReadLimits(YamlMappingReader r)
    {
        var limits = new LimitsConfig(
            MaxMessageSize: r.Size("max_message_size", 25L * 1024 * 1024, min: 1024),
            MaxRecipients: r.Int("max_recipients", 100, 1, 100_000),
            MaxConnections: r.Int("max_connections", 1000, 1, 1_000_000),
            MaxConnectionsPerIp: r.Int("max_connections_per_ip", 20, 1, 1_000_000),
            CommandTimeout: r.Duration("command_timeout", TimeSpan.FromMinutes(5)),
            DataTimeout: r.Duration("data_timeout", TimeSpan.FromMinutes(3)),
            SessionTimeout: r.Duration("session_timeout", TimeSpan.FromHours(1)),
            MaxErrors: r.Int("max_errors", 10, 1, 1000))
        {
            MaxRecipientOvershoot = r.Int("max_recipient_overshoot", 1000, 0, 1_000_000),
        };
        if (limits.MaxMessageSize > int.MaxValue)
            r.Error(r.Get("max_message_size"), "'limits.max_message_size' must be under 2GB");
        r.RejectUnknownKeys();
        return limits;
    }

    private static RelayConfig ReadRelay(YamlMappingReader r)
    {
        var domains = new List<string>();
        foreach (var (value, node) in r.StringList("domains"))
        {
            var domain = value.Trim().ToLowerInvariant();
            if (IsHostName(domain))
                domains.Add(domain);
            else
                r.Error(node, $"'relay.domains' entry '{value}' is not a domain name");
        }
        var networks = ReadNetworks(r, "networks", "relay.networks");
        if (domains.Count == 0 && networks.Count == 0)
            r.Error(r.Get("domains") ?? r.Node, "'relay.domains' needs at least one domain (or 'relay.networks' a client network): otherwise every recipient is refused");
        r.RejectUnknownKeys();
        return new RelayConfig(domains.Distinct().ToArray(), networks);
    }

    private static UpstreamConfig ReadUpstream(YamlMappingReader r, string baseDirectory, RelayConfig relay)
    {
        var hosts = new List<HostPort>();
        var hostItems = r.StringList("hosts");
        foreach (var (value, node) in hostItems)
        {
            if (TryParseHostPort(value, out var hp))
                hosts.Add(hp);
            else
                r.Error(node, $"'upstream.hosts' entry '{value}' must be host:port, such as 127.0.0.1:2526 or mail.example.test:25");
        }
        var (directory, dirNode) = r.StringWithNode("directory");
        if (hostItems.Count > 0 && directory is not null)
            r.Error(dirNode, "'upstream' takes either 'hosts' or 'directory', not both");
        if (hostItems.Count == 0 && directory is null)
            r.Error(r.Node, "'upstream' needs 'hosts' (the MTA to relay to) or 'directory' (write each message to a folder)");

        var config = new UpstreamConfig(
            Hosts: hosts,
            Directory: directory is null ? null : Path.GetFullPath(directory, baseDirectory),
            Tls: r.Enum("tls", UpstreamTls.Opportunistic),
            VerifyCertificate: r.Bool("verify_certificate", false),
            Timeout: r.Duration("timeout", TimeSpan.FromSeconds(60)),
            PoolSize: r.Int("pool_size", 16, 0, 10_000),
            IdleTimeout: r.Duration("idle_timeout", TimeSpan.FromSeconds(30)),
            Recipients: ReadUpstreamRecipients(r));
        config = config with { Routes = ReadRoutes(r, config, baseDirectory, relay) };
        r.RejectUnknownKeys();
        return config;
    }

    private static UpstreamRecipients ReadUpstreamRecipients(YamlMappingReader r)
    {
        var (text, node) = r.StringWithNode("recipients");
        switch (text)
        {
            case null or "realtime":
                return UpstreamRecipients.Realtime;
            case "at_end_of_data":
                return UpstreamRecipients.AtEndOfData;
            default:
                r.Error(node!, $"'upstream.recipients' must be realtime | at_end_of_data, not '{text}'");
                return UpstreamRecipients.Realtime;
        }
    }

    private static RulesConfig ReadRules(YamlMappingReader r, string baseDirectory, ConfigErrorSink errors)
    {
        var files = new List<string>();
        foreach (var (pattern, node) in r.StringList("files"))
        {
            var full = Path.GetFullPath(pattern, baseDirectory);
            var directory = Path.GetDirectoryName(full)!;
            var name = Path.GetFileName(full);
            if (name.Contains('*') || name.Contains('?'))
            {
                errors.Depend(Path.Combine(directory, name)); // a new file there changes the rules
                if (!Directory.Exists(directory))
                    r.Error(node, $"'rules.files': no directory {Path.GetDirectoryName(pattern)}");
                else
                    files.AddRange(Directory.GetFiles(directory, name).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(full))
                files.Add(full);
            else
                r.Error(node, $"'rules.files': rule file not found: {pattern}");
        }
        var onError = r.Enum("on_error", Pipeline.OnError.Tempfail);
        var budget = r.Duration("budget", TimeSpan.FromSeconds(10));
        r.RejectUnknownKeys();
        var ruleErrors = new List<ConfigError>();
        foreach (var file in files)
            errors.Depend(file);
        var set = Rules.RuleLoader.Load(files.Distinct().ToList(), ruleErrors, errors.Dependencies);
        errors.Errors.AddRange(ruleErrors);
        return new RulesConfig(files, set, onError, budget);
    }

    private static QuarantineConfig ReadQuarantine(YamlMappingReader r, string baseDirectory)
    {
        var directory = r.String("directory");
        var (replyText, replyNode) = r.StringWithNode("reply");
        var store = r.Enum("store", Quarantine.QuarantineBackend.Directory);
        var retention = r.Duration("retention", QuarantineConfig.None.Retention);
        r.RejectUnknownKeys();
        if (store == Quarantine.QuarantineBackend.Directory && directory is null && r.Get("store") is not null)
            r.Error(r.Get("store"), "'quarantine.store: directory' needs 'quarantine.directory'");
        var reply = QuarantineConfig.None.Reply;
        if (replyText is not null)
        {
            // Written to the client as it is: one line of printable ASCII (a CR or LF would start a second reply).
            var parts = replyText.Trim().Split(' ', 3);
            if (parts.Length == 3 && parts[0] == "250" && parts[1].Split('.') is ["2", var subject, var detail]
                && new[] { subject, detail }.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit))
                && parts[2].Length is > 0 and <= 400 && parts[2].All(c => c is >= ' ' and < (char)127))
                reply = new Reply(250, parts[1], parts[2]);
            else
                r.Error(replyNode, "'quarantine.reply' must be \"250 2.x.x text\" on one line of printable ASCII (at most 400 characters): the client is told the message was taken");
        }
        return new QuarantineConfig(directory is null ? null : Path.GetFullPath(directory, baseDirectory), reply) { Store = store, Retention = retention };
    }

    private static Mime.MimeLimits ReadMime(YamlMappingReader r)
    {
        var d = Mime.MimeLimits.Default;
        var limits = new Mime.MimeLimits(
            MaxDepth: r.Int("max_depth", d.MaxDepth, 1, 100),
            MaxParts: r.Int("max_parts", d.MaxParts, 1, 100_000),
            MaxArchiveBytes: r.Size("archive_max_bytes", d.MaxArchiveBytes),
            MaxArchiveEntries: r.Int("archive_max_entries", d.MaxArchiveEntries, 1, 1_000_000),
            MaxArchiveRatio: r.Int("archive_max_ratio", d.MaxArchiveRatio, 1, 100_000),
            MaxArchiveNesting: r.Int("archive_max_nesting", d.MaxArchiveNesting, 0, 10))
        {
            MaxHeaders = r.Int("max_headers", d.MaxHeaders, 10, 1_000_000),
            MaxHeaderSize = (int)Math.Min(int.MaxValue, r.Size("max_header_size", d.MaxHeaderSize, 1024)),
            MaxHeaderBlock = r.Size("max_header_block", d.MaxHeaderBlock, 1024),
            MaxArchiveTime = r.Duration("archive_max_time", d.MaxArchiveTime),
        };
        r.RejectUnknownKeys();
        return limits;
    }

    private static PolicyConfig ReadPolicy(YamlMappingReader r)
    {
        var bare = r.Enum("bare_line_endings", BareLineEndings.Reject);
        var bareRelay = r.Enum("bare_line_endings_relay_networks", BareLineEndings.Normalize);
        var t = r.Mapping("thresholds");
        var thresholds = new Thresholds(t.Number("add_header"), t.Number("reject"), t.Number("quarantine"), t.Number("rewrite_subject"));
        t.RejectUnknownKeys();
        if (thresholds is { AddHeader: { } add, Reject: { } reject } && add > reject)
            t.Error(t.Node, "'policy.thresholds.add_header' must not be above 'reject'");
        // Reject is decided first: a quarantine or subject rewrite from reject's score on would never happen.
        foreach (var (key, value) in new[] { ("quarantine", thresholds.Quarantine), ("rewrite_subject", thresholds.RewriteSubject) })
        {
            if (value is { } at && thresholds.Reject is { } rejectAt && at >= rejectAt)
                t.Error(t.Get(key), $"'policy.thresholds.{key}' ({at}) must be below 'reject' ({rejectAt}): a message that reaches it is refused first");
        }
        var (scoreHeader, scoreNode) = r.StringWithNode("score_header");
        var (symbolsHeader, symbolsNode) = r.StringWithNode("symbols_header");
        foreach (var (name, node) in new[] { (scoreHeader, scoreNode), (symbolsHeader, symbolsNode) })
        {
            if (name is not null && (name.Length == 0 || !name.All(c => c is > ' ' and < (char)127 && c != ':')))
                r.Error(node, $"'{name}' is not a valid header name");
        }
        var (prefix, prefixNode) = r.StringWithNode("subject_prefix");
        if (prefix is not null && (prefix.Length is 0 or > 64 || prefix.Any(c => c is < ' ' or > '~')))
            r.Error(prefixNode, "'policy.subject_prefix' must be 1 to 64 printable ASCII characters");
        r.RejectUnknownKeys();
        return new PolicyConfig(bare, thresholds, scoreHeader ?? "X-Gateway-Score", symbolsHeader ?? "X-Gateway-Symbols")
        {
            SubjectPrefix = prefix ?? "[SPAM] ",
            RelayNetworksBareLineEndings = bareRelay,
        };
    }

    private static PipelineConfig ReadPipeline(YamlMappingReader r, string baseDirectory)
    {
        var delayReject = r.Bool("delay_reject", true);
        var phases = new Dictionary<Pipeline.Phase, IReadOnlyList<FilterDefinition>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var phase in Enum.GetValues<Pipeline.Phase>())
        {
            var key = Pipeline.Phases.Name(phase);
            var node = r.Get(key);
            if (node is null)
                continue;
            if (node is not YamlSequenceNode sequence)
            {
                r.Error(node, $"'pipeline.{key}' must be a list of filters");
                continue;
            }
            var list = new List<FilterDefinition>();
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                var item = YamlMappingReader.For(sequence.Children[i], $"pipeline.{key}[{i}]", r.Sink);
                var (type, typeNode) = item.StringWithNode("type");
                var (name, nameNode) = item.StringWithNode("name");
                var onError = item.Enum("on_error", Pipeline.OnError.Tempfail);
                var budget = item.Duration("budget", TimeSpan.FromSeconds(10));
                if (type is null || !Pipeline.FilterRegistry.Exists(type))
                {
                    item.Error(typeNode ?? item.Node, type is null
                        ? $"every filter needs a 'type' ({string.Join(", ", Pipeline.FilterRegistry.Types.Order())})"
                        : $"unknown filter type '{type}' (known: {string.Join(", ", Pipeline.FilterRegistry.Types.Order())})");
                    continue;
                }
                name ??= type;
                if (type == "rules" ? name != "rules" : !names.Add(name))
                    item.Error(nameNode ?? typeNode, type == "rules" ? "'rules' marks where the rule engine runs; it takes no name"
                        : $"filter name '{name}' is used twice; give each filter its own 'name'");
                var filter = Pipeline.FilterRegistry.Create(type, name, item, baseDirectory);
                item.RejectUnknownKeys();
                if (filter is null)
                    continue;
                if (!filter.Phases.Contains(phase))
                {
                    item.Error(typeNode, $"filter type '{type}' cannot run at {key}; it runs at {string.Join(", ", filter.Phases.Select(Pipeline.Phases.Name))}");
                    continue;
                }
                list.Add(new FilterDefinition(name, type, phase, onError, budget, filter));
            }
            phases[phase] = list;
        }
        r.RejectUnknownKeys();
        return new PipelineConfig(delayReject, phases);
    }

    private static LoggingConfig ReadLogging(YamlMappingReader r)
    {
        var format = r.Enum("format", LogFormat.Text);
        var (levelText, levelNode) = r.StringWithNode("level");
        var level = LogLevel.Information;
        if (levelText is not null)
        {
            level = levelText.ToLowerInvariant() switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "information" or "info" => LogLevel.Information,
                "warning" or "warn" => LogLevel.Warning,
                "error" => LogLevel.Error,
                _ => (LogLevel)(-1),
            };
            if ((int)level < 0)
            {
                r.Error(levelNode, $"'logging.level' must be one of trace | debug | info | warning | error, not '{levelText}'");
                level = LogLevel.Information;
            }
        }
        r.RejectUnknownKeys();
        return new LoggingConfig(format, level);
    }

    private static List<IPNetwork> ReadNetworks(YamlMappingReader r, string key, string path)
    {
        var list = new List<IPNetwork>();
        foreach (var (value, node) in r.StringList(key))
        {
            if (TryParseNetwork(value, out var network))
                list.Add(network);
            else
                r.Error(node, $"'{path}' entry '{value}' must be an IP address or CIDR network such as 192.0.2.0/24");
        }
        return list;
    }

    /// <summary>
    /// An address or CIDR network written plainly: IPv4 as four decimal numbers (IPAddress.TryParse also takes "10"
    /// as 0.0.0.10, "192.168.1" as 192.168.0.1, "0x7f.1" and "010.0.0.1"), IPv6 without a zone, and no address
    /// bits past the prefix ("192.0.2.10/24" could mean the host or the /24; IPNetwork would silently take the /24).
    /// </summary>
    public static bool TryParseNetwork(string text, out IPNetwork network)
    {
        network = default;
        text = text.Trim();
        var slash = text.IndexOf('/');
        var address = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(address, out var parsed) || !(address.Contains(':') ? !address.Contains('%') : IsDottedQuad(address)))
            return false;
        var max = parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (slash >= 0 && !(int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) && prefix <= max))
            return false;
        var bytes = parsed.GetAddressBytes();
        for (var bit = prefix; bit < max; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
                return false;
        }
        network = new IPNetwork(parsed, prefix);
        return true;

        static bool IsDottedQuad(string a) =>
            a.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0'));
    }

    public static bool TryParseHostPort(string text, out HostPort hostPort)
    {
        hostPort = null!;
        text = text.Trim();
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
                return false;
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out _))
                return false;
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon)
                return false;
            host = text[..colon];
            portText = text[(colon + 1)..];
            if (!IPAddress.TryParse(host, out _) && !IsHostName(host))
                return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return false;
        hostPort = new HostPort(host, port);
        return true;
    }

    /// <summary>LDH labels separated by dots, at most 253 characters; a single label (such as localhost) is allowed.</summary>
    public static bool IsHostName(string name)
    {
        if (name.Length is 0 or > 253 || name.EndsWith('.'))
            return false;
        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-'))
                return false;
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                    return false;
            }
        }
        return true;
    }

    private static ConfigErrorSink ErrorsOf(YamlMappingReader r) => r.Sink;
}
