using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Pipeline;
using Gateway.Rules.Matchers;
using YamlDotNet.RepresentationModel;

namespace Gateway.Rules;

/// <summary>
/// Reads rule files (<c>rules/*.yaml</c>): every error with file, line and column, all at once; unknown fields,
/// duplicate ids, regexes that do not compile, missing list files, and matchers used in a phase where their data
/// does not exist yet are all errors.
/// </summary>
public static class RuleLoader
{
    public static RuleSet Load(IReadOnlyList<string> files, List<ConfigError> errors, HashSet<string>? dependencies = null)
    {
        if (files.Count == 0)
            return RuleSet.Empty;
        var rules = new List<Rule>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            string text;
            try
            {
                text = ConfigFiles.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new ConfigError(file, 0, 0, $"cannot read the rule file: {e.Message}"));
                continue;
            }
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n" + text + "\n"));
            var sink = new ConfigErrorSink(file, dependencies);
            foreach (var rule in LoadFile(text, file, sink))
            {
                if (ids.TryGetValue(rule.Id, out var first))
                    sink.Errors.Add(new ConfigError(file, rule.Line, 1, $"duplicate rule id '{rule.Id}' (first defined in {first})"));
                else
                {
                    ids[rule.Id] = $"{file}:{rule.Line}";
                    rules.Add(rule);
                }
            }
            errors.AddRange(sink.Errors);
        }
        return new RuleSet(rules, Convert.ToHexStringLower(hash.GetHashAndReset())[..12]);
    }

    private static List<Rule> LoadFile(string text, string file, ConfigErrorSink sink)
    {
        if (!YamlText.TryLoad(text, sink, out var root))
            return [];
        var top = YamlMappingReader.For(root, "", sink);
        var list = top.Get("rules");
        top.RejectUnknownKeys();
        var rules = new List<Rule>();
        if (list is null)
            return rules;
        if (list is not YamlSequenceNode sequence)
        {
            sink.Add(list, "'rules' must be a list of rules");
            return rules;
        }
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var rule = ReadRule(YamlMappingReader.For(sequence.Children[i], $"rules[{i}]", sink), baseDirectory);
            if (rule is not null)
                rules.Add(rule with { File = file });
        }
        return rules;
    }

    private static Rule? ReadRule(YamlMappingReader r, string baseDirectory)
    {
        var errorsBefore = r.Sink.Errors.Count;
        var (id, idNode) = r.StringWithNode("id");
        var description = r.String("description") ?? "";
        var (phaseText, phaseNode) = r.StringWithNode("phase");
        var mode = r.Enum("mode", RuleMode.Enforce);
        var matchNode = r.Get("match");
        var action = r.Enum("action", RuleAction.None);
        var (replyText, replyNode) = r.StringWithNode("reply");
        var score = r.Number("score") ?? 0;
        r.RejectUnknownKeys();

        if (id is null || id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            r.Error(idNode ?? r.Node, "every rule needs an 'id' of letters, digits, '_', '-' and '.'");
        if (matchNode is null)
            r.Error(r.Node, $"rule '{id}' needs 'match'");
        if (action == RuleAction.None && score == 0)
            r.Error(r.Node, $"rule '{id}' does nothing: give it an 'action' or a 'score'");
        var matcher = matchNode is null ? null : ReadMatcher(matchNode, $"{r.Path}.match", r.Sink, baseDirectory);
        if (matcher is null || id is null || r.Sink.Errors.Count > errorsBefore)
            return null;

        var phase = matcher.Needs;
        if (phaseText is not null)
        {
            if (!Phases.TryParse(phaseText, out var explicitPhase))
            {
                r.Error(phaseNode, $"'phase' must be one of connect | helo | mail_from | rcpt_to | data, not '{phaseText}'");
                return null;
            }
            if (explicitPhase < matcher.Needs)
            {
                r.Error(phaseNode, $"rule '{id}' runs at {phaseText}, but its match needs data from {matcher.Needs.Name()}");
                return null;
            }
            phase = explicitPhase;
        }

        Reply? reply = null;
        if (replyText is not null)
        {
            reply = ParseReply(replyText);
            var expected = action switch { RuleAction.Reject => 5, RuleAction.Tempfail => 4, RuleAction.Disconnect => 0, _ => -1 };
            if (reply is null || expected > 0 && reply.Code / 100 != expected || expected < 0)
            {
                r.Error(replyNode, expected < 0
                    ? $"'reply' is only for reject, tempfail and disconnect"
                    : $"'reply' must be \"{(expected == 4 ? "4xx 4.x.x" : expected == 5 ? "5xx 5.x.x" : "4xx/5xx x.x.x")} text\" for action {action.ToString().ToLowerInvariant()}, not '{replyText}'");
                return null;
            }
        }
        return new Rule(id, description, phase, mode, matcher, action, reply, score, "", r.Node.Start.Line);
    }

    /// <summary>"550 5.7.1 text".</summary>
    public static Reply? ParseReply(string text)
    {
        var parts = text.Trim().Split(' ', 3);
        if (parts.Length < 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 400 or > 599)
            return null;
        var enhanced = parts[1].Split('.');
        if (enhanced.Length != 3 || enhanced[0] != (code / 100).ToString(CultureInfo.InvariantCulture) || !enhanced.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)))
            return null;
        var clean = Forwarding.UpstreamReply.Clean(parts[2]);
        return clean.Length == 0 ? null : new Reply(code, parts[1], clean);
    }

    private static IMatcher? ReadMatcher(YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        var r = YamlMappingReader.For(node, path, sink);
        var parts = new List<IMatcher>();
        foreach (var (keyNode, value) in ((YamlMappingNode)r.Node).Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            r.Get(key);
            var at = $"{path}.{key}";
            IMatcher? m = key switch
            {
                "all" or "any" => ReadList(key, value, at, sink, baseDirectory),
                "not" => ReadMatcher(value, at, sink, baseDirectory) is { } inner ? new NotMatcher(inner) : null,
                "client_ip" => ReadClientIp(value, at, sink, baseDirectory),
                "helo" => ReadText("helo", Phase.Helo, TextMatcher.Helo, value, at, sink, baseDirectory),
                "mail_from" => ReadText("sender", Phase.MailFrom, TextMatcher.Sender, value, at, sink, baseDirectory),
                "rcpt_to" => ReadText("recipient", Phase.RcptTo, TextMatcher.Recipients, value, at, sink, baseDirectory),
                "subject" => ReadText("subject", Phase.Data, TextMatcher.Subject, value, at, sink, baseDirectory),
                "header" => ReadHeader(value, at, sink),
                "attachment" => ReadAttachment(value, at, sink, baseDirectory),
                "url" => ReadPattern(value, at, sink, baseDirectory) is { } link ? new UrlMatcher(link) : null,
                "display_name_spoof" => ReadFlag(value, at, sink) ? new DisplayNameSpoofMatcher() : null,
                "lookalike" => ReadLookalike(value, at, sink),
                "html_smuggling" => ReadFlag(value, at, sink) ? new HtmlSmugglingMatcher() : null,
                "body" => ReadPattern(value, at, sink, baseDirectory) is { } body ? new BodyMatcher(body) : null,
                "size" => ReadSize(value, at, sink),
                "rdns" => ReadPattern(value, at, sink, baseDirectory) is { } rdns ? new ReverseDnsMatcher(rdns) : null,
                "spf" or "dkim" or "dmarc" or "arc" => ReadAuth(key, value, at, sink, baseDirectory),
                "uribl" => ReadUribl(value, at, sink),
                "symbol" => ReadSymbol(value, at, sink, baseDirectory),
                _ => Unknown(keyNode, key, path, sink),
            };
            if (m is not null)
                parts.Add(m);
        }
        if (parts.Count == 0)
        {
            if (((YamlMappingNode)r.Node).Children.Count == 0)
                sink.Add(node, $"'{path}' is empty");
            return null;
        }
        return parts.Count == 1 ? parts[0] : new AllMatcher(parts);
    }

    private static IMatcher? Unknown(YamlNode keyNode, string key, string path, ConfigErrorSink sink)
    {
        sink.Add(keyNode, $"unknown matcher '{key}' in '{path}' (known: all, any, not, client_ip, rdns, helo, mail_from, rcpt_to, subject, header, size, attachment, body, url, display_name_spoof, lookalike, html_smuggling, spf, dkim, dmarc, arc, uribl, symbol)");
        return null;
    }

    private static IMatcher? ReadList(string kind, YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            sink.Add(node, $"'{path}' must be a non-empty list of conditions");
            return null;
        }
        var parts = new List<IMatcher>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (ReadMatcher(sequence.Children[i], $"{path}[{i}]", sink, baseDirectory) is { } m)
                parts.Add(m);
        }
        if (parts.Count != sequence.Children.Count)
            return null;
        return kind == "all" ? new AllMatcher(parts) : new AnyMatcher(parts);
    }

    private static IMatcher? ReadClientIp(YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        var errors = new List<string>();
        NetworkList list;
        string description;
        if (node is YamlMappingNode)
        {
            var r = YamlMappingReader.For(node, path, sink);
            var (file, fileNode) = r.StringWithNode("list");
            r.RejectUnknownKeys();
            if (file is null)
            {
                sink.Add(node, $"'{path}' takes a list of networks or {{ list: FILE }}");
                return null;
            }
            list = NetworkList.Load(r.Sink.Depend(Path.GetFullPath(file, baseDirectory)), errors);
            description = $"list {file}";
            foreach (var e in errors)
                sink.Add(fileNode, e);
        }
        else
        {
            var items = node is YamlSequenceNode s ? s.Children : [node];
            var texts = new List<string>();
            foreach (var item in items)
            {
                var text = (item as YamlScalarNode)?.Value ?? "";
                if (ConfigLoader.TryParseNetwork(text, out _))
                    texts.Add(text);
                else
                    sink.Add(item, $"'{path}' entry '{text}' is not an IP address or CIDR network");
            }
            list = NetworkList.From(texts);
            description = string.Join(", ", texts);
            if (texts.Count != items.Count)
                return null;
        }
        return errors.Count == 0 ? new ClientIpMatcher(list, description) : null;
    }

    private static IMatcher? ReadText(string what, Phase phase, Func<FilterContext, IEnumerable<string>> values, YamlNode node, string path, ConfigErrorSink sink, string baseDirectory) =>
        ReadPattern(node, path, sink, baseDirectory) is { } pattern ? new TextMatcher(what, phase, values, pattern) : null;

    /// <summary>A string (exact), or one of exact, glob, regex, domain, list; null after reporting an error.</summary>
    private static TextPattern? ReadPattern(YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        if (node is YamlScalarNode scalar)
            return TextPattern.Exact(scalar.Value ?? "");
        var r = YamlMappingReader.For(node, path, sink);
        var kinds = new[] { "exact", "glob", "regex", "domain", "list" };
        var given = kinds.Select(k => (Kind: k, Value: r.StringWithNode(k))).Where(k => k.Value.Value is not null).ToList();
        r.RejectUnknownKeys();
        if (given.Count != 1)
        {
            sink.Add(node, $"'{path}' needs exactly one of exact, glob, regex, domain, list");
            return null;
        }
        var (kind, (text, textNode)) = given[0];
        TextPattern? pattern = null;
        string? error = null;
        switch (kind)
        {
            case "exact": pattern = TextPattern.Exact(text!); break;
            case "domain": pattern = TextPattern.Domain(text!); break;
            case "glob": error = TextPattern.Glob(text!, out pattern); break;
            case "regex":
                error = SafeRegex.TryCreate(text!, ignoreCase: true, out var regex);
                if (regex is not null)
                    pattern = TextPattern.Regex(regex);
                break;
            default:
                var entries = LoadEntries(sink.Depend(Path.GetFullPath(text!, baseDirectory)), out error);
                if (entries is not null)
                    pattern = TextPattern.List(text!, entries);
                break;
        }
        if (error is not null || pattern is null)
        {
            sink.Add(textNode, $"'{path}.{kind}': {error}");
            return null;
        }
        return pattern;
    }

    /// <summary>A list file of domains and addresses: one a line, '#' comments, compared in lower case.</summary>
    private static HashSet<string>? LoadEntries(string path, out string? error)
    {
        error = null;
        try
        {
            return ConfigFiles.ReadAllLines(path)
                .Select(l => (l.IndexOf('#') is var h && h >= 0 ? l[..h] : l).Trim().ToLowerInvariant())
                .Where(l => l.Length > 0)
                .ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read list: {e.Message}";
            return null;
        }
    }

    private static IMatcher? ReadHeader(YamlNode node, string path, ConfigErrorSink sink)
    {
        var r = YamlMappingReader.For(node, path, sink);
        var name = r.String("name");
        var (pattern, patternNode) = r.StringWithNode("regex");
        var (occurrences, occNode) = r.StringWithNode("occurrences");
        var min = r.Get("min") is null ? (int?)null : r.Int("min", 0, 0, 100_000);
        var max = r.Get("max") is null ? (int?)null : r.Int("max", 0, 0, 100_000);
        r.RejectUnknownKeys();
        if (name is null)
        {
            sink.Add(node, $"'{path}' needs 'name'");
            return null;
        }
        if (occurrences is not (null or "any" or "all"))
        {
            sink.Add(occNode, $"'{path}.occurrences' must be any or all");
            return null;
        }
        SafeRegex? regex = null;
        if (pattern is not null && SafeRegex.TryCreate(pattern, ignoreCase: true, out regex) is { } error)
        {
            sink.Add(patternNode, $"'{path}.regex' does not compile: {error}");
            return null;
        }
        if (regex is null && min is null && max is null)
        {
            sink.Add(node, $"'{path}' needs 'regex', 'min' or 'max'");
            return null;
        }
        return new HeaderMatcher(name, regex, occurrences == "all", min, max);
    }

    private static IMatcher? ReadAttachment(YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        var r = YamlMappingReader.For(node, path, sink);
        var before = sink.Errors.Count;
        var nameNode = r.Get("name");
        var name = nameNode is null ? null : ReadPattern(nameNode, $"{path}.name", sink, baseDirectory);
        var extensions = Set(r.StringList("extension"), e => e.TrimStart('.').ToLowerInvariant());
        var typeNode = r.Get("declared_type");
        var declared = typeNode is null ? null : ReadPattern(typeNode, $"{path}.declared_type", sink, baseDirectory);
        var sniffed = Set(r.StringList("sniffed"), e => e.ToLowerInvariant());
        bool? Flag(string key) => r.Get(key) is null ? null : r.Bool(key, false);
        var macros = Flag("macros");
        var doubleExtension = Flag("double_extension");
        var inArchive = Flag("in_archive");
        var encrypted = Flag("encrypted");
        r.RejectUnknownKeys();
        if (sink.Errors.Count > before)
            return null;
        if (name is null && extensions is null && declared is null && sniffed is null && macros is null && doubleExtension is null && inArchive is null && encrypted is null)
        {
            sink.Add(node, $"'{path}' needs at least one of name, extension, declared_type, sniffed, macros, double_extension, in_archive, encrypted");
            return null;
        }
        return new AttachmentMatcher(name, extensions, declared, sniffed, macros, doubleExtension, inArchive, encrypted);

        static HashSet<string>? Set(IReadOnlyList<(string Value, YamlNode Node)> items, Func<string, string> normalize) =>
            items.Count == 0 ? null : items.Select(i => normalize(i.Value)).ToHashSet(StringComparer.Ordinal);
    }

    private static bool ReadFlag(YamlNode node, string path, ConfigErrorSink sink)
    {
        if (node is YamlScalarNode { Value: "true" })
            return true;
        sink.Add(node, $"'{path}' takes only 'true'");
        return false;
    }

    /// <summary>"lookalike: true" (anywhere), "lookalike: from" or "lookalike: [from, reply_to, link]".</summary>
    private static IMatcher? ReadLookalike(YamlNode node, string path, ConfigErrorSink sink)
    {
        if (node is YamlScalarNode { Value: "true" })
            return new LookalikeMatcher([.. LookalikeMatcher.Places.Values]);
        var places = node switch
        {
            YamlScalarNode scalar => [scalar.Value],
            YamlSequenceNode sequence => sequence.Children.Select(c => (c as YamlScalarNode)?.Value).ToList(),
            _ => [],
        };
        if (places.Count == 0 || places.Any(p => p is null || !LookalikeMatcher.Places.ContainsKey(p)))
        {
            sink.Add(node, $"'{path}' takes true or places among {string.Join(", ", LookalikeMatcher.Places.Keys)}");
            return null;
        }
        return new LookalikeMatcher([.. places.Select(p => LookalikeMatcher.Places[p!])]);
    }

    /// <summary>"spf: fail", "spf: [fail, softfail]" or "dkim: { result: pass, domain: example.com }".</summary>
    private static IMatcher? ReadAuth(string method, YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        var known = AuthResultMatcher.Methods[method];
        YamlNode resultNode = node;
        TextPattern? domain = null;
        if (node is YamlMappingNode)
        {
            var r = YamlMappingReader.For(node, path, sink);
            var result = r.Get("result");
            var domainNode = r.Get("domain");
            r.RejectUnknownKeys();
            if (result is null)
            {
                sink.Add(node, $"'{path}' needs 'result' ({string.Join(", ", known)})");
                return null;
            }
            resultNode = result;
            if (domainNode is not null && (domain = ReadPattern(domainNode, $"{path}.domain", sink, baseDirectory)) is null)
                return null;
        }
        var items = resultNode is YamlSequenceNode sequence ? sequence.Children : [resultNode];
        var results = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var text = ((item as YamlScalarNode)?.Value ?? "").ToLowerInvariant();
            if (Array.IndexOf(known, text) < 0)
            {
                sink.Add(item, $"'{path}': {method} results are {string.Join(", ", known)}, not '{text}'");
                return null;
            }
            results.Add(text);
        }
        return results.Count == 0 ? null : new AuthResultMatcher(method, results, domain);
    }

    /// <summary>"uribl: ZONE" or "uribl: { zone: ZONE, codes: [127.0.0.2, 127.0.0.4-127.0.0.8], max_domains: 20 }".</summary>
    private static IMatcher? ReadUribl(YamlNode node, string path, ConfigErrorSink sink)
    {
        string? zone;
        YamlNode? zoneNode = node;
        var codes = UriblMatcher.DefaultCodes;
        var maxDomains = 20;
        if (node is YamlMappingNode)
        {
            var r = YamlMappingReader.For(node, path, sink);
            (zone, zoneNode) = r.StringWithNode("zone");
            var codeList = r.StringList("codes");
            maxDomains = r.Int("max_domains", 20, 1, 100);
            r.RejectUnknownKeys();
            if (codeList.Count > 0)
            {
                if (Filters.Abuse.DnsblCodes.Parse([.. codeList.Select(c => c.Value)], out var error) is not { } parsed)
                {
                    sink.Add(r.Get("codes"), $"'{path}.codes': {error}");
                    return null;
                }
                codes = parsed;
            }
        }
        else
            zone = (node as YamlScalarNode)?.Value;
        if (zone is null || !Dns.DnsNames.IsValidQueryName(zone) || zone.Contains(' '))
        {
            sink.Add(zoneNode ?? node, $"'{path}' needs a zone: 'uribl: ZONE' or {{ zone: ZONE, codes: [...], max_domains: N }}");
            return null;
        }
        return new UriblMatcher(Dns.DnsNames.Normalize(zone), codes, maxDomains);
    }

    /// <summary>"symbol: NAME", "symbol: [A, B]" or a pattern ("symbol: { glob: HELO_* }").</summary>
    private static IMatcher? ReadSymbol(YamlNode node, string path, ConfigErrorSink sink, string baseDirectory)
    {
        if (node is YamlSequenceNode sequence)
        {
            var names = sequence.Children.Select(c => (c as YamlScalarNode)?.Value).ToList();
            if (names.Count == 0 || names.Any(n => string.IsNullOrEmpty(n)))
            {
                sink.Add(node, $"'{path}' takes symbol names");
                return null;
            }
            return new SymbolMatcher([.. names.Select(n => TextPattern.Exact(n!))]);
        }
        return ReadPattern(node, path, sink, baseDirectory) is { } pattern ? new SymbolMatcher([pattern]) : null;
    }

    private static IMatcher? ReadSize(YamlNode node, string path, ConfigErrorSink sink)
    {
        var r = YamlMappingReader.For(node, path, sink);
        long? min = r.Get("min") is null ? null : r.Size("min", 0, min: 0);
        long? max = r.Get("max") is null ? null : r.Size("max", 0, min: 0);
        r.RejectUnknownKeys();
        if (min is null && max is null)
        {
            sink.Add(node, $"'{path}' needs 'min' or 'max'");
            return null;
        }
        return new SizeMatcher(min, max);
    }
}
