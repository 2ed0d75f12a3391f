using System.Net;
using Gateway.Configuration;

namespace Gateway.Filters.Abuse;

/// <summary>
/// The <c>allow</c> option of <c>rate_limit</c> and <c>greylist</c>: client networks (CIDR) and sender domains
/// (the domain and its subdomains) that are never limited or greylisted. A sender domain is what the client claims:
/// allow-list domains only where spoofing them gains nothing, or pair them with SPF.
/// </summary>
public sealed class RateLimitAllowList(NetworkList networks, IReadOnlyList<string> domains)
{
    public static readonly RateLimitAllowList Empty = new(NetworkList.From([]), []);

    /// <summary>What matched ("client 192.0.2.1", "sender domain example.org"), or null.</summary>
    public string? Match(IPAddress client, SmtpPath? sender)
    {
        if (networks.Contains(client))
            return $"client {client}";
        if (sender is { IsNull: false } && sender.AsciiDomain is { } domain)
        {
            foreach (var allowed in domains)
            {
                if (domain == allowed || domain.EndsWith("." + allowed, StringComparison.Ordinal))
                    return $"sender domain {domain}";
            }
        }
        return null;
    }

    internal static RateLimitAllowList Read(YamlMappingReader options)
    {
        if (options.Get("allow") is null)
            return Empty;
        var allow = options.Mapping("allow");
        var networks = new List<string>();
        foreach (var (value, node) in allow.StringList("networks"))
        {
            if (ConfigLoader.TryParseNetwork(value, out _))
                networks.Add(value);
            else
                allow.Error(node, $"'allow.networks' entry '{value}' must be an IP address or CIDR network such as 192.0.2.0/24");
        }
        var domains = new List<string>();
        foreach (var (value, node) in allow.StringList("domains"))
        {
            var domain = value.Trim().TrimEnd('.').ToLowerInvariant();
            if (ConfigLoader.IsHostName(domain))
                domains.Add(domain);
            else
                allow.Error(node, $"'allow.domains' entry '{value}' is not a domain name");
        }
        allow.RejectUnknownKeys();
        return new RateLimitAllowList(NetworkList.From(networks), domains);
    }
}
