using System.Net;
using System.Net.Sockets;
using Gateway.Dns;

namespace Gateway.Authentication.Spf;

/// <summary>
/// The state of one SPF check: check_host() (RFC 7208 section 4) with the counters that are shared across include
/// and redirect (4.6.4) and the trace of every DNS query. Used once, by <see cref="SpfChecker"/>.
/// </summary>
internal sealed class SpfEvaluation(
    IDnsResolver dns,
    SpfOptions options,
    IPAddress client,
    string localPart,
    string senderDomain,
    string helo,
    CancellationToken cancellationToken)
{
    private readonly List<string> _trace = [];
    private List<string>? _validatedNames;

    public int Lookups { get; private set; }

    public int VoidLookups { get; private set; }

    public IReadOnlyList<string> Trace => _trace;

    private bool IsIPv4 => client.AddressFamily == AddressFamily.InterNetwork;

    public async Task<SpfHostResult> CheckHostAsync(string domain)
    {
        var answer = Record("TXT", domain, await dns.TxtAsync(domain, cancellationToken));
        if (answer.IsFailure)
            throw SpfAbortException.Temp($"TXT lookup of {domain} failed: {answer.Error}");
        var records = answer.Records.Where(SpfRecord.IsSpf1).ToList();
        if (records.Count == 0)
            return new SpfHostResult(SpfResult.None, null, null, domain);
        if (records.Count > 1)
            throw SpfAbortException.Perm($"{domain} has {records.Count} v=spf1 records");
        SpfRecord record;
        try
        {
            record = SpfRecordParser.Parse(records[0]);
        }
        catch (SpfSyntaxException e)
        {
            throw SpfAbortException.Perm($"SPF record of {domain}: {e.Message}");
        }

        foreach (var mechanism in record.Mechanisms)
        {
            if (await MatchesAsync(mechanism, domain))
                return new SpfHostResult(mechanism.Qualifier, mechanism.Text, record.Explanation, domain);
        }
        if (record.Redirect is null)
            return new SpfHostResult(SpfResult.Neutral, null, null, domain);

        // 6.1: redirect= applies only when no mechanism matched; a target without a record is a permerror.
        CountDnsTerm("redirect=" + record.Redirect.Text);
        var target = await TargetAsync(record.Redirect, domain)
            ?? throw SpfAbortException.Perm($"redirect={record.Redirect.Text} is not a valid domain name");
        var result = await CheckHostAsync(target);
        if (result.Result == SpfResult.None)
            throw SpfAbortException.Perm($"redirect target {target} has no SPF record");
        return result;
    }

    /// <summary>The explanation of a fail (6.2): the exp= text if it can be had, else the default explanation.</summary>
    public async Task<string> ExplainAsync(SpfHostResult result)
    {
        if (result.Explanation is not null)
        {
            var target = await TargetAsync(result.Explanation, result.Domain);
            if (target is not null)
            {
                // Not counted against any limit (4.6.4); any trouble means "as if no exp= was given" (6.2).
                var answer = Record("TXT", target, await dns.TxtAsync(target, cancellationToken));
                if (answer.Status == DnsStatus.Ok && answer.Records.Count == 1)
                {
                    try
                    {
                        return await ExpandAsync(SpfMacroString.Parse(answer.Records[0], explanation: true), result.Domain);
                    }
                    catch (SpfSyntaxException)
                    {
                        // An explanation with a syntax error is ignored.
                    }
                }
            }
        }
        try
        {
            return await ExpandAsync(SpfMacroString.Parse(options.DefaultExplanation, explanation: true), result.Domain);
        }
        catch (SpfSyntaxException)
        {
            return options.DefaultExplanation;
        }
    }

    private async Task<bool> MatchesAsync(SpfMechanism mechanism, string domain)
    {
        if (mechanism.QueriesDns)
            CountDnsTerm(mechanism.Text);
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.All:
                return true;
            case SpfMechanismKind.Ip4:
                return IsIPv4 && InNetwork(client, mechanism.Network!, mechanism.Prefix4);
            case SpfMechanismKind.Ip6:
                return !IsIPv4 && InNetwork(client, mechanism.Network!, mechanism.Prefix6);
            case SpfMechanismKind.Include:
                return await IncludeAsync(mechanism, domain);
        }

        // a, mx, ptr and exists: a target that is no valid DNS name matches nothing (4.3, 4.8).
        var target = mechanism.Domain is null ? domain : await TargetAsync(mechanism.Domain, domain);
        if (target is null)
            return false;
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.A:
                var addresses = await AddressesAsync(target);
                Record(AddressType, target, addresses);
                return CheckAddresses(addresses, target, mechanism, countVoid: true);
            case SpfMechanismKind.Mx:
                return await MxAsync(target, mechanism);
            case SpfMechanismKind.Ptr:
                var names = await ValidatedNamesAsync(name => IsSameOrSubdomain(name, target), countVoid: true);
                return names.Count > 0;
            default:
                // exists: an A query whatever the client's address family (5.7).
                var answer = Record("A", target, await dns.AAsync(target, cancellationToken));
                if (answer.IsFailure)
                    throw SpfAbortException.Temp($"A lookup of {target} failed: {answer.Error}");
                if (answer.IsEmpty)
                    CountVoid(target);
                return answer.Status == DnsStatus.Ok;
        }
    }

    private async Task<bool> IncludeAsync(SpfMechanism mechanism, string domain)
    {
        var target = await TargetAsync(mechanism.Domain!, domain)
            ?? throw SpfAbortException.Perm($"{mechanism.Text}: not a valid domain name");
        // 5.2: pass matches; fail, softfail and neutral do not; none is a permerror; errors propagate.
        var result = await CheckHostAsync(target);
        return result.Result switch
        {
            SpfResult.Pass => true,
            SpfResult.None => throw SpfAbortException.Perm($"{mechanism.Text}: {target} has no SPF record"),
            _ => false,
        };
    }

    private async Task<bool> MxAsync(string target, SpfMechanism mechanism)
    {
        var mx = Record("MX", target, await dns.MxAsync(target, cancellationToken));
        if (mx.IsFailure)
            throw SpfAbortException.Temp($"MX lookup of {target} failed: {mx.Error}");
        if (mx.IsEmpty)
        {
            CountVoid(target);
            return false;
        }
        if (mx.Records.Count > SpfLimits.MxNames)
            throw SpfAbortException.Perm($"{target} has {mx.Records.Count} MX records, more than {SpfLimits.MxNames} (RFC 7208 4.6.4)");

        // The address lookups of the exchanges are independent: run them together, then judge them in MX order so
        // that the result and the trace are the same as one after the other.
        var hosts = mx.Records.OrderBy(r => r.Preference).Select(r => DnsNames.Normalize(r.Exchange))
            .Where(DnsNames.IsValidQueryName).ToList();
        var answers = await Task.WhenAll(hosts.Select(h => AddressesAsync(h).AsTask()));
        for (var i = 0; i < hosts.Count; i++)
        {
            Record(AddressType, hosts[i], answers[i]);
            if (CheckAddresses(answers[i], hosts[i], mechanism, countVoid: false))
                return true;
        }
        return false;
    }

    private bool CheckAddresses(DnsAnswer<IPAddress> answer, string name, SpfMechanism mechanism, bool countVoid)
    {
        if (answer.IsFailure)
            throw SpfAbortException.Temp($"{AddressType} lookup of {name} failed: {answer.Error}");
        if (answer.IsEmpty)
        {
            if (countVoid)
                CountVoid(name);
            return false;
        }
        var prefix = IsIPv4 ? mechanism.Prefix4 : mechanism.Prefix6;
        return answer.Records.Any(a => InNetwork(client, a, prefix));
    }

    /// <summary>
    /// The names of the client's PTR records (the first <see cref="SpfLimits.PtrNames"/>) that pass the filter and
    /// whose addresses include the client (5.5). DNS errors skip a name; a PTR error gives no names.
    /// </summary>
    private async Task<List<string>> ValidatedNamesAsync(Func<string, bool> filter, bool countVoid)
    {
        var reverse = DnsNames.ReverseName(client);
        var ptr = Record("PTR", reverse, await dns.PtrAsync(client, cancellationToken));
        if (ptr.IsEmpty && countVoid)
            CountVoid(reverse);
        if (ptr.Status != DnsStatus.Ok)
            return [];
        var names = ptr.Records.Take(SpfLimits.PtrNames).Select(DnsNames.Normalize)
            .Where(n => DnsNames.IsValidQueryName(n) && filter(n)).ToList();
        var answers = await Task.WhenAll(names.Select(n => AddressesAsync(n).AsTask()));
        var validated = new List<string>();
        for (var i = 0; i < names.Count; i++)
        {
            Record(AddressType, names[i], answers[i]);
            if (answers[i].Status == DnsStatus.Ok && answers[i].Records.Any(a => InNetwork(client, a, IsIPv4 ? 32 : 128)))
                validated.Add(names[i]);
        }
        return validated;
    }

    /// <summary>%{p} (7.3): the validated name equal to the domain, else one under it, else any, else "unknown".</summary>
    private async Task<string?> ValidatedNameAsync(string domain)
    {
        _validatedNames ??= await ValidatedNamesAsync(_ => true, countVoid: false);
        return _validatedNames.FirstOrDefault(n => n.Equals(domain, StringComparison.OrdinalIgnoreCase))
            ?? _validatedNames.FirstOrDefault(n => IsSameOrSubdomain(n, domain))
            ?? _validatedNames.FirstOrDefault();
    }

    /// <summary>
    /// Expands a domain-spec into a name to query: the trailing dot dropped, cut from the left to 253 octets (7.3);
    /// null when the result is no valid DNS name (empty or over-long labels).
    /// </summary>
    private async Task<string?> TargetAsync(SpfMacroString spec, string domain)
    {
        var name = await ExpandAsync(spec, domain);
        if (name.EndsWith('.'))
            name = name[..^1];
        while (name.Length > SpfLimits.DomainLength)
        {
            var dot = name.IndexOf('.');
            if (dot < 0)
                return null;
            name = name[(dot + 1)..];
        }
        return DnsNames.IsValidQueryName(name) ? name : null;
    }

    private async Task<string> ExpandAsync(SpfMacroString text, string domain)
    {
        var validated = text.UsesValidatedName ? await ValidatedNameAsync(domain) : null;
        return text.Expand(new SpfMacroValues(
            localPart + "@" + senderDomain, localPart, senderDomain, domain, client, helo, validated,
            options.ReceivingHost, options.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    private string AddressType => IsIPv4 ? "A" : "AAAA";

    private ValueTask<DnsAnswer<IPAddress>> AddressesAsync(string name) =>
        IsIPv4 ? dns.AAsync(name, cancellationToken) : dns.AaaaAsync(name, cancellationToken);

    private DnsAnswer<T> Record<T>(string type, string name, DnsAnswer<T> answer)
    {
        _trace.Add($"{type} {name} -> {answer.Describe()}");
        return answer;
    }

    private void CountDnsTerm(string term)
    {
        if (++Lookups > SpfLimits.DnsTerms)
            throw SpfAbortException.Perm($"more than {SpfLimits.DnsTerms} DNS-querying terms (RFC 7208 4.6.4) at '{term}'");
    }

    private void CountVoid(string name)
    {
        if (++VoidLookups > SpfLimits.VoidLookups)
            throw SpfAbortException.Perm($"more than {SpfLimits.VoidLookups} void lookups (RFC 7208 4.6.4) at {name}");
    }

    private static bool IsSameOrSubdomain(string name, string domain)
    {
        domain = domain.TrimEnd('.');
        return name.Equals(domain, StringComparison.OrdinalIgnoreCase)
            || name.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True when the first <paramref name="prefix"/> bits of both addresses agree (same family only).</summary>
    private static bool InNetwork(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily)
            return false;
        Span<byte> a = stackalloc byte[16], n = stackalloc byte[16];
        address.TryWriteBytes(a, out var length);
        network.TryWriteBytes(n, out _);
        var bits = Math.Min(prefix, length * 8);
        var whole = bits / 8;
        if (!a[..whole].SequenceEqual(n[..whole]))
            return false;
        var rest = bits % 8;
        if (rest == 0)
            return true;
        var mask = (byte)(0xFF << (8 - rest));
        return (a[whole] & mask) == (n[whole] & mask);
    }
}
