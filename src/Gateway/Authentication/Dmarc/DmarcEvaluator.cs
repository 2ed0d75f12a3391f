using Gateway.Dns;

namespace Gateway.Authentication.Dmarc;

/// <summary>
/// DMARC evaluation (RFC 7489 with np= from RFC 9091) of one message from its author domain and the results of SPF
/// and DKIM. Decisions the RFCs leave open, as taken here:
/// <list type="bullet">
/// <item>A DNS failure while looking up the policy record is temperror: never pass, never a silent "none"
/// (6.6.3 leaves it to the receiver; a 4xx lets the sender retry).</item>
/// <item>When no aligned identifier passes but an aligned SPF or DKIM check ended in temperror, the result is
/// temperror, not fail: the retry may pass. A temperror of an identifier that does not align cannot change the
/// result and is ignored; one aligned pass is enough whatever else failed.</item>
/// <item>np= applies when the record came from the Organizational Domain, the author domain is below it, and the
/// author domain does not exist: NXDOMAIN or NODATA for each of A, AAAA and MX (RFC 9091 2.7). When that cannot be
/// told for a DNS failure, a failing message is temperror (a passing one stays pass, with sp/p as policy).</item>
/// <item>A public suffix as author domain has no Organizational Domain: only its own record is looked up, and
/// identifiers align with it only when equal.</item>
/// <item>A v=DMARC1 record that cannot be used (no valid p= and no rua=) is permerror with policy none.</item>
/// <item>Several From fields or addresses: each domain is evaluated and the message never passes. Result fail with
/// the strictest policy found (and its disposition); permerror with policy none and the problem as reason when
/// no domain has a usable record; temperror when a lookup failed.</item>
/// </list>
/// </summary>
public sealed class DmarcEvaluator
{
    private readonly IDnsResolver _dns;
    private readonly PublicSuffixList _psl;
    private readonly Func<int> _randomPercent;

    /// <param name="randomPercent">A draw in 0..99 for pct=: the policy applies when the draw is below pct.</param>
    public DmarcEvaluator(IDnsResolver dns, PublicSuffixList psl, Func<int> randomPercent)
    {
        _dns = dns;
        _psl = psl;
        _randomPercent = randomPercent;
    }

    public async Task<DmarcOutcome> EvaluateAsync(DmarcInput input, CancellationToken ct)
    {
        var trace = new List<string>();
        var author = input.Author;
        if (author.Domains.Count == 0)
            return Outcome(DmarcResult.PermError, null, null, author.Problem ?? "no-from", trace);
        if (author.Problem is null)
            return await EvaluateDomainAsync(author.Domains[0], input, neverPass: false, trace, ct);

        var outcomes = new List<DmarcOutcome>();
        foreach (var domain in author.Domains)
            outcomes.Add(await EvaluateDomainAsync(domain, input, neverPass: true, trace, ct));
        if (outcomes.FirstOrDefault(o => o.Result == DmarcResult.TempError) is { } failed)
            return failed with { Reason = $"{author.Problem}: {failed.Reason}", Trace = trace };
        var strictest = outcomes
            .Where(o => o.Result == DmarcResult.Fail)
            .OrderByDescending(o => o.Policy)
            .ThenByDescending(o => o.Disposition)
            .FirstOrDefault();
        if (strictest is null)
            return Outcome(DmarcResult.PermError, null, null, $"{author.Problem}: no author domain has a DMARC policy", trace);
        return strictest with
        {
            Reason = $"{author.Problem}: never passes; strictest policy of {author.Domains.Count} author domain(s) is {strictest.Domain}'s",
            Trace = trace,
        };
    }

    private async Task<DmarcOutcome> EvaluateDomainAsync(string rawDomain, DmarcInput input, bool neverPass, List<string> trace, CancellationToken ct)
    {
        if (DomainNames.ToAscii(rawDomain) is not { } domain)
            return Outcome(DmarcResult.PermError, rawDomain, null, "invalid-author-domain", trace);
        var org = _psl.RegistrableDomain(domain);

        // Policy discovery (RFC 7489 6.6.3): the author domain, then (only if it has no DMARC record at all) the
        // Organizational Domain. Several records at the name where they are found: no policy.
        var found = await DiscoverAsync(domain, trace, ct);
        var source = domain;
        if (found.Error is null && found.Records.Count == 0 && org is not null && org != domain)
        {
            found = await DiscoverAsync(org, trace, ct);
            source = org;
        }
        if (found.Error is not null)
            return Outcome(DmarcResult.TempError, domain, org, found.Error, trace);
        if (found.Records.Count == 0)
            return Outcome(DmarcResult.None, domain, org, "no DMARC record", trace);
        if (found.Records.Count > 1)
            return Outcome(DmarcResult.None, domain, org, $"{found.Records.Count} DMARC records at _dmarc.{source}: no policy", trace);
        var text = found.Records[0];
        if (!DmarcRecord.TryParse(text, out var record, out var error))
            return Outcome(DmarcResult.PermError, domain, org, "unusable DMARC record: " + error, trace) with { Record = text };

        // Identifier alignment (RFC 7489 3.1): a passing identifier whose domain is the author domain (strict) or
        // has the same Organizational Domain (relaxed).
        var spf = input.Spf;
        var spfAligned = spf.Result == AuthVerdict.Pass && Aligned(spf.Domain, domain, record!.SpfAlignment);
        var dkimAligned = input.Dkim.FirstOrDefault(d => d.Result == AuthVerdict.Pass && Aligned(d.Domain, domain, record!.DkimAlignment));
        var pass = spfAligned || dkimAligned is not null;
        var tempError = !pass
            && ((spf.Result == AuthVerdict.TempError && Aligned(spf.Domain, domain, record!.SpfAlignment))
                || input.Dkim.Any(d => d.Result == AuthVerdict.TempError && Aligned(d.Domain, domain, record!.DkimAlignment)));

        // The policy that applies (RFC 7489 6.3 p/sp, RFC 9091 np).
        var policy = record!.Policy;
        var policySource = "p";
        string? existenceError = null;
        if (source != domain)
        {
            var exists = record.NonExistentPolicy is null ? true : await ExistsAsync(domain, trace, ct);
            if (exists is false)
            {
                policy = record.NonExistentPolicy!.Value;
                policySource = "np";
            }
            else
            {
                if (exists is null)
                    existenceError = $"DNS failure testing whether {domain} exists (np=)";
                if (record.SubdomainPolicy is { } sp)
                {
                    policy = sp;
                    policySource = "sp";
                }
            }
        }

        DmarcResult result;
        string reason;
        if (pass && !neverPass)
        {
            result = DmarcResult.Pass;
            reason = spfAligned ? $"aligned SPF pass ({spf.Domain})" : $"aligned DKIM pass (d={dkimAligned!.Domain})";
        }
        else if (tempError)
        {
            result = DmarcResult.TempError;
            reason = "no aligned pass; an aligned SPF or DKIM check had a temporary error";
        }
        else if (existenceError is not null)
        {
            result = DmarcResult.TempError;
            reason = existenceError;
        }
        else
        {
            result = DmarcResult.Fail;
            reason = pass ? "aligned pass, but the From field is ambiguous" : "no aligned SPF or DKIM pass";
        }

        var disposition = result == DmarcResult.Fail ? ApplyPercent(policy, record.Percent) : DmarcPolicy.None;
        return new DmarcOutcome(result, domain, org, text, policy, disposition, policySource, spfAligned,
            dkimAligned?.Domain, reason, trace);
    }

    /// <summary>pct= (RFC 7489 6.6.4): a message not selected gets the next milder policy.</summary>
    private DmarcPolicy ApplyPercent(DmarcPolicy policy, int percent)
    {
        if (percent >= 100 || policy == DmarcPolicy.None || _randomPercent() < percent)
            return policy;
        return policy == DmarcPolicy.Reject ? DmarcPolicy.Quarantine : DmarcPolicy.None;
    }

    private bool Aligned(string? identifier, string authorDomain, AlignmentMode mode)
    {
        if (DomainNames.ToAscii(identifier) is not { } id)
            return false;
        if (id == authorDomain)
            return true;
        if (mode == AlignmentMode.Strict)
            return false;
        var idOrg = _psl.RegistrableDomain(id);
        return idOrg is not null && idOrg == _psl.RegistrableDomain(authorDomain);
    }

    private sealed record Discovery(IReadOnlyList<string> Records, string? Error);

    private async Task<Discovery> DiscoverAsync(string domain, List<string> trace, CancellationToken ct)
    {
        var name = "_dmarc." + domain;
        var answer = await _dns.TxtAsync(name, ct);
        trace.Add($"TXT {name} -> {answer.Describe()}");
        if (answer.IsFailure)
            return new Discovery([], $"DNS failure looking up {name}: {answer.Error}");
        return new Discovery(answer.Records.Where(DmarcRecord.IsDmarcRecord).ToArray(), null);
    }

    /// <summary>True when A, AAAA or MX has records; false when all three are NXDOMAIN or NODATA; null when unknown.</summary>
    private async Task<bool?> ExistsAsync(string domain, List<string> trace, CancellationToken ct)
    {
        var failed = false;
        var a = await _dns.AAsync(domain, ct);
        trace.Add($"A {domain} -> {a.Describe()}");
        if (a.Status == DnsStatus.Ok)
            return true;
        failed |= a.IsFailure;
        var aaaa = await _dns.AaaaAsync(domain, ct);
        trace.Add($"AAAA {domain} -> {aaaa.Describe()}");
        if (aaaa.Status == DnsStatus.Ok)
            return true;
        failed |= aaaa.IsFailure;
        var mx = await _dns.MxAsync(domain, ct);
        trace.Add($"MX {domain} -> {mx.Describe()}");
        if (mx.Status == DnsStatus.Ok)
            return true;
        failed |= mx.IsFailure;
        return failed ? null : false;
    }

    private static DmarcOutcome Outcome(DmarcResult result, string? domain, string? org, string reason, List<string> trace) =>
        new(result, domain, org, null, DmarcPolicy.None, DmarcPolicy.None, null, false, null, reason, trace);
}
