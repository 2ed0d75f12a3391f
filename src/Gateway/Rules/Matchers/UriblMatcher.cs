using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Gateway.Dns;
using Gateway.Filters.Abuse;
using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>
/// A URI block list (Spamhaus DBL, SURBL, URIBL): the registrable domain (Public Suffix List) of each link host in
/// the message, at most <c>max_domains</c> distinct ones, looked up side by side as <c>DOMAIN.ZONE</c> A records before
/// the rules match; an IPv4 host is looked up as its reversed octets, as SURBL does. An answer among <c>codes</c> is a
/// listing. When no domain is listed and a lookup failed (timeout, SERVFAIL, a refusal code: 127.0.0.1 or
/// 127.255.255.x), the condition is neither true nor false (<see cref="LookupFailedException"/>).
/// </summary>
public sealed class UriblMatcher(string zone, DnsblCodes codes, int maxDomains) : IMatcher
{
    /// <summary>Any 127.0.0.0/8 answer except 127.0.0.1 (URIBL's "refused") and 127.255.255.x (Spamhaus's).</summary>
    public static readonly DnsblCodes DefaultCodes = DnsblCodes.Parse(["127.0.0.2-127.255.254.255"], out _)!;

    private readonly ConditionalWeakTable<FilterContext, Task<List<(string Domain, DnsAnswer<IPAddress> Answer)>>> _answers = new();

    public Phase Needs => Phase.Data;

    public Lookups Requires => Lookups.Matcher;

    public override string ToString() => $"uribl {zone}";

    public Task PrepareAsync(FilterContext context, CancellationToken cancellationToken) =>
        _answers.GetValue(context, c => LookupAsync(c, cancellationToken));

    private async Task<List<(string, DnsAnswer<IPAddress>)>> LookupAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var psl = context.Session.Config.Authentication.PublicSuffixList;
        var domains = new List<string>();
        foreach (var url in context.View?.Urls ?? [])
        {
            var name = url.HostNameType == UriHostNameType.IPv4 && IPAddress.TryParse(url.Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork
                ? string.Join('.', ip.GetAddressBytes().Reverse())
                : url.HostNameType == UriHostNameType.Dns ? psl.RegistrableDomain(url.IdnHost) : null;
            if (name is not null && !domains.Contains(name))
                domains.Add(name);
            if (domains.Count == maxDomains)
                break;
        }
        var dns = context.Session.Authentication.Dns;
        var answers = await Task.WhenAll(domains.Select(d => dns.AAsync($"{d}.{zone}", cancellationToken).AsTask())).ConfigureAwait(false);
        return [.. domains.Zip(answers)];
    }

    public MatchResult Match(FilterContext context)
    {
        if (!_answers.TryGetValue(context, out var task) || !task.IsCompletedSuccessfully)
            throw new LookupFailedException($"the {zone} lookups did not run");
        string? failure = null;
        foreach (var (domain, answer) in task.Result)
        {
            var listed = answer.Records.Where(codes.Contains).ToList();
            if (listed.Count > 0)
                return MatchResult.Yes($"link domain {domain} listed in {zone} ({string.Join(", ", listed)})");
            if (answer.IsFailure)
                failure ??= $"{domain}.{zone}: {answer.Error}";
            else if (answer.Records.FirstOrDefault(a => DnsblCodes.IsRefusal(a) || a.Equals(IPAddress.Loopback)) is { } refusal)
                failure ??= $"{domain}.{zone}: the list refused the query ({refusal})";
        }
        return failure is null ? MatchResult.No : throw new LookupFailedException(failure);
    }
}
