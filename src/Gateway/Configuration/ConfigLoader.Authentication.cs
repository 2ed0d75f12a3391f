using System.Net;
using Gateway.Dns;

namespace Gateway.Configuration;

/// <summary>The <c>dns</c> and <c>authentication</c> sections.</summary>
public static partial class ConfigLoader
{
    private static DnsConfig ReadDns(YamlMappingReader r)
    {
        var d = DnsConfig.Default;
        var servers = new List<IPEndPoint>();
        foreach (var (value, node) in r.StringList("servers"))
        {
            // IP, IP:port or [IPv6]:port; no port means 53.
            if (IPEndPoint.TryParse(value, out var endPoint))
                servers.Add(endPoint.Port == 0 ? new IPEndPoint(endPoint.Address, 53) : endPoint);
            else
                r.Error(node, $"'dns.servers' entry '{value}' must be an IP address, or IP:port ([v6]:port)");
        }
        var timeout = r.Duration("timeout", d.Timeout);
        if (timeout < TimeSpan.FromMilliseconds(100) || timeout > TimeSpan.FromSeconds(60))
            r.Error(r.Get("timeout"), "'dns.timeout' must be between 100ms and 60s");
        var config = new DnsConfig(servers, timeout, r.Int("retries", d.Retries, 0, 5), r.Int("cache_entries", d.CacheEntries, 0, 10_000_000));
        r.RejectUnknownKeys();
        return config;
    }

    private static AuthenticationConfig ReadAuthentication(YamlMappingReader r, string baseDirectory)
    {
        var d = AuthenticationConfig.Default;
        var sealers = new List<string>();
        foreach (var (value, node) in r.StringList("trusted_arc_sealers"))
        {
            var domain = value.TrimEnd('.').ToLowerInvariant();
            if (IsHostName(domain))
                sealers.Add(domain);
            else
                r.Error(node, $"'authentication.trusted_arc_sealers' entry '{value}' must be a domain");
        }
        var (psl, pslNode) = r.StringWithNode("public_suffix_list");
        string? pslPath = null;
        var list = Authentication.Dmarc.PublicSuffixList.Default;
        if (psl is not null)
        {
            pslPath = r.Sink.Depend(Path.GetFullPath(psl, baseDirectory));
            try
            {
                list = Authentication.Dmarc.PublicSuffixList.Load(pslPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                r.Error(pslNode, $"'authentication.public_suffix_list': cannot use {psl}: {e.Message}");
            }
        }
        var config = new AuthenticationConfig(r.Int("dkim_max_signatures", d.DkimMaxSignatures, 1, 50), sealers, pslPath) { PublicSuffixList = list };
        r.RejectUnknownKeys();
        return config;
    }
}
