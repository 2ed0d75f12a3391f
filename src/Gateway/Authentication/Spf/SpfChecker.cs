using System.Net;
using Gateway.Dns;

namespace Gateway.Authentication.Spf;

/// <summary>
/// SPF (RFC 7208) for the MAIL FROM and HELO identities, on <see cref="IDnsResolver"/>.
/// Written by hand: the one package that validates SPF (ARSoft.Tools.Net) queries through its own DNS client and
/// record types, so it could not tell a DNS failure from NXDOMAIN the way <see cref="DnsStatus"/> does, nor give the
/// per-query trace and the lookup counts that <c>gateway explain</c> shows.
/// </summary>
public sealed class SpfChecker(IDnsResolver dns, SpfOptions options)
{
    /// <summary>
    /// The MAIL FROM identity (2.4). For the null sender (<paramref name="mailFrom"/> empty) that identity is
    /// postmaster@HELO, so the HELO domain's policy is checked; the outcome still says "mailfrom".
    /// </summary>
    public Task<SpfOutcome> CheckAsync(IPAddress client, string mailFrom, string? helo, CancellationToken ct)
    {
        if (mailFrom.Length == 0)
            return RunAsync("mailfrom", client, "postmaster", helo ?? "", helo ?? "", ct);
        var at = mailFrom.LastIndexOf('@');
        // 4.3: a sender without a local-part is postmaster at its domain.
        var local = at <= 0 ? "postmaster" : mailFrom[..at];
        var domain = at < 0 ? mailFrom : mailFrom[(at + 1)..];
        return RunAsync("mailfrom", client, local, domain, helo ?? "unknown", ct);
    }

    /// <summary>The HELO identity (2.3): the policy of the HELO domain for postmaster@HELO.</summary>
    public Task<SpfOutcome> CheckHeloAsync(IPAddress client, string helo, CancellationToken ct) =>
        RunAsync("helo", client, "postmaster", helo, helo, ct);

    private async Task<SpfOutcome> RunAsync(
        string identity, IPAddress client, string localPart, string domain, string helo, CancellationToken ct)
    {
        // 5 (last paragraph): an IPv4-mapped IPv6 client is an IPv4 client.
        if (client.IsIPv4MappedToIPv6)
            client = client.MapToIPv4();
        var sender = localPart + "@" + domain;
        var name = domain.EndsWith('.') ? domain[..^1] : domain;
        if (!IsCheckableDomain(name))
        {
            return new SpfOutcome(SpfResult.None, identity, domain, sender, null, null,
                $"'{domain}' is not a fully qualified domain name (RFC 7208 4.3)", 0, 0, []);
        }

        var evaluation = new SpfEvaluation(dns, options, client, localPart, name, helo, ct);
        SpfResult result;
        string? mechanism = null, explanation = null, problem;
        try
        {
            var hostResult = await evaluation.CheckHostAsync(name);
            result = hostResult.Result;
            mechanism = hostResult.Mechanism;
            problem = result == SpfResult.None ? $"{name} has no SPF record" : null;
            if (result == SpfResult.Fail)
                explanation = await evaluation.ExplainAsync(hostResult);
        }
        catch (SpfAbortException e)
        {
            result = e.Result;
            problem = e.Message;
        }
        return new SpfOutcome(result, identity, domain, sender, mechanism, explanation, problem,
            evaluation.Lookups, evaluation.VoidLookups, [.. evaluation.Trace]);
    }

    /// <summary>4.3: a domain with an empty or over-long label, a single label or a domain literal gives none.</summary>
    private static bool IsCheckableDomain(string domain) =>
        domain.Length > 0 && domain[0] != '[' && domain.Contains('.') && DnsNames.IsValidQueryName(domain);
}
