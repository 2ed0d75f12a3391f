namespace Gateway.State;

/// <summary>How long greylisting makes a new triplet wait, how long it waits for the retry, and how long a passed triplet is remembered.</summary>
/// <param name="Delay">A retry earlier than this after the first attempt is deferred again.</param>
/// <param name="RetryWindow">A first retry later than this after the first attempt starts over (the record has expired).</param>
/// <param name="Expiry">A triplet that passed is let through without delay until it has not been seen for this long.</param>
public sealed record GreylistTimes(TimeSpan Delay, TimeSpan RetryWindow, TimeSpan Expiry)
{
    /// <summary>Postgrey's defaults: 5 minutes, 2 days, 35 days.</summary>
    public static readonly GreylistTimes Default = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(2), TimeSpan.FromDays(35));
}

public enum GreylistStatus
{
    /// <summary>First attempt (or the previous one is past the retry window): deferred, and the time recorded.</summary>
    New,

    /// <summary>A retry before the delay is over: deferred again; the first time is kept.</summary>
    TooEarly,

    /// <summary>The first retry after the delay: let through, and the triplet is remembered as passed.</summary>
    Passed,

    /// <summary>A triplet that passed before: let through, and remembered for another <c>expiry</c>.</summary>
    Known,
}

/// <param name="RetryAfter">For <see cref="GreylistStatus.New"/> and <see cref="GreylistStatus.TooEarly"/>: how long until a retry passes.</param>
public readonly record struct GreylistDecision(GreylistStatus Status, TimeSpan RetryAfter)
{
    public bool Deferred => Status is GreylistStatus.New or GreylistStatus.TooEarly;
}
