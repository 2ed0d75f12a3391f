using System.Globalization;
using Gateway.Forwarding;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>
/// <c>upstream.routes</c>: recipient domains whose mail goes to other hosts (or a directory) than the <c>upstream</c>
/// section's, each route with its own pool, failover order and TLS policy (Postfix's transport_maps).
/// </summary>
public static partial class ConfigLoader
{
    private static RouteTable ReadRoutes(YamlMappingReader upstream, UpstreamConfig defaults, string baseDirectory, RelayConfig relay)
    {
        var node = upstream.Get("routes");
        if (node is null)
            return RouteTable.Empty;
        if (node is not YamlSequenceNode list)
        {
            upstream.Error(node, "'upstream.routes' must be a list of { domains, hosts (or directory), tls, timeout, ... }");
            return RouteTable.Empty;
        }
        var routes = new List<UpstreamRoute>();
        // Each domain with the route (and the YAML node) that first named it, to report both positions of a duplicate.
        var seen = new Dictionary<string, (string Route, YamlNode Node)>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { RouteTable.DefaultName };
        for (var i = 0; i < list.Children.Count; i++)
        {
            var path = $"upstream.routes[{i}]";
            var r = YamlMappingReader.For(list.Children[i], path, upstream.Sink);
            var domains = new List<string>();
            var domainItems = r.StringList("domains");
            foreach (var (value, domainNode) in domainItems)
            {
                if (RouteDomain(value) is not { } domain)
                {
                    r.Error(domainNode, $"'{path}.domains' entry '{value}' is not a domain name (example.com, or .example.com for its subdomains)");
                    continue;
                }
                if (seen.TryGetValue(domain, out var first))
                {
                    if (first.Route != path)
                        r.Error(domainNode, $"domain {domain} is in two routes: {first.Route} (line {first.Node.Start.Line}, column {first.Node.Start.Column}) and {path}: give each domain one route");
                    continue;
                }
                seen[domain] = (path, domainNode);
                domains.Add(domain);
                WarnOutsideRelay(r, domainNode, path, domain, relay);
            }
            if (domainItems.Count == 0)
                r.Error(r.Get("domains") ?? r.Node, $"'{path}' needs 'domains': the recipient domains it takes");

            var hosts = new List<HostPort>();
            var hostItems = r.StringList("hosts");
            foreach (var (value, hostNode) in hostItems)
            {
                if (TryParseHostPort(value, out var hp))
                    hosts.Add(hp);
                else
                    r.Error(hostNode, $"'{path}.hosts' entry '{value}' must be host:port, such as 10.0.0.26:25 or mail.example.test:25");
            }
            var (directory, dirNode) = r.StringWithNode("directory");
            if (hostItems.Count > 0 && directory is not null)
                r.Error(dirNode, $"'{path}' takes either 'hosts' or 'directory', not both");
            if (hostItems.Count == 0 && directory is null)
                r.Error(r.Node, $"'{path}' needs 'hosts' (the MTA for its domains) or 'directory' (write their mail to a folder)");

            var (name, nameNode) = r.StringWithNode("name");
            if (name is not null && (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            {
                r.Error(nameNode, $"'{path}.name' must be letters, digits, dots, hyphens or underscores (at most 64), not '{name}'");
                name = null;
            }
            name ??= domains.FirstOrDefault() ?? path;
            if (!names.Add(name))
                r.Error(nameNode ?? r.Node, $"'{path}': there is already a route named '{name}' (the default route is '{RouteTable.DefaultName}'): give it another 'name'");

            // Settings the route does not give are the upstream section's, as a Postfix transport takes main.cf's.
            var config = new UpstreamConfig(
                Hosts: hosts,
                Directory: directory is null ? null : Path.GetFullPath(directory, baseDirectory),
                Tls: r.Enum("tls", defaults.Tls),
                VerifyCertificate: r.Bool("verify_certificate", defaults.VerifyCertificate),
                Timeout: r.Duration("timeout", defaults.Timeout),
                PoolSize: r.Int("pool_size", defaults.PoolSize, 0, 10_000),
                IdleTimeout: r.Duration("idle_timeout", defaults.IdleTimeout),
                Recipients: defaults.Recipients);
            r.RejectUnknownKeys();
            var start = list.Children[i].Start;
            routes.Add(new UpstreamRoute(name, domains, config, $"{upstream.Sink.File}:{start.Line}:{start.Column}"));
        }
        return new RouteTable(routes);
    }

    /// <summary>
    /// A route's domain in the form recipients are compared in: lower case, IDNA (ASCII), a leading dot kept (its
    /// subdomains); null when it is not a domain name.
    /// </summary>
    internal static string? RouteDomain(string value)
    {
        var text = value.Trim().ToLowerInvariant();
        var subdomains = text.StartsWith('.');
        if (subdomains)
            text = text[1..];
        if (!text.All(char.IsAscii))
        {
            try
            {
                text = new IdnMapping().GetAscii(text).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
        // A subdomain pattern needs a parent of two labels at least: ".com" would route a whole top-level domain.
        if (!IsHostName(text) || subdomains && !text.Contains('.'))
            return null;
        return subdomains ? "." + text : text;
    }

    /// <summary>
    /// Relay control runs before routing: mail for a route domain outside relay.domains is refused (554 5.7.1)
    /// unless the client is in relay.networks. Valid (outbound routes do that), so a warning.
    /// </summary>
    private static void WarnOutsideRelay(YamlMappingReader r, YamlNode node, string path, string domain, RelayConfig relay)
    {
        var covered = domain.StartsWith('.')
            ? relay.Domains.Any(d => d.EndsWith(domain, StringComparison.Ordinal))
            : relay.Domains.Contains(domain, StringComparer.Ordinal);
        if (covered)
            return;
        var what = domain.StartsWith('.') ? $"no subdomain of {domain[1..]} is in relay.domains (which match exactly)" : $"{domain} is not in relay.domains";
        r.Sink.Warn(node, $"'{path}': {what}: its mail is refused by relay control unless it comes from relay.networks");
    }
}
