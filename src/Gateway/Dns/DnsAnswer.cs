namespace Gateway.Dns;

/// <summary>How a query ended. A failure is never the same as "no such record": the difference decides temperror.</summary>
public enum DnsStatus
{
    /// <summary>At least one record of the type asked for.</summary>
    Ok,

    /// <summary>The name exists but has no record of that type (NOERROR, empty answer).</summary>
    NoData,

    /// <summary>The name does not exist (NXDOMAIN).</summary>
    NxDomain,

    /// <summary>No usable answer: timeout, SERVFAIL, REFUSED, a malformed reply or name.</summary>
    Failure,
}

/// <summary>The answer to one query: the records (empty unless <see cref="DnsStatus.Ok"/>) and, on failure, why.</summary>
public sealed record DnsAnswer<T>(DnsStatus Status, IReadOnlyList<T> Records, string? Error = null)
{
    public static DnsAnswer<T> Of(IReadOnlyList<T> records) =>
        records.Count == 0 ? new(DnsStatus.NoData, []) : new(DnsStatus.Ok, records);

    public static readonly DnsAnswer<T> NoData = new(DnsStatus.NoData, []);
    public static readonly DnsAnswer<T> NxDomain = new(DnsStatus.NxDomain, []);

    public static DnsAnswer<T> Failed(string error) => new(DnsStatus.Failure, [], error);

    public bool IsFailure => Status == DnsStatus.Failure;

    /// <summary>NXDOMAIN or an empty answer: what SPF calls a void lookup.</summary>
    public bool IsEmpty => Status is DnsStatus.NoData or DnsStatus.NxDomain;

    /// <summary>The answer as one short text, for explain and logs.</summary>
    public string Describe() => Status switch
    {
        DnsStatus.Ok => string.Join(" | ", Records),
        DnsStatus.Failure => "failure: " + Error,
        _ => Status.ToString(),
    };
}

/// <summary>An MX record.</summary>
public sealed record MxHost(int Preference, string Exchange)
{
    public override string ToString() => $"{Preference} {Exchange}";
}
