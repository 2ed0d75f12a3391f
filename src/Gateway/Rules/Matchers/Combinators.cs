using Gateway.Pipeline;

namespace Gateway.Rules.Matchers;

/// <summary>Every condition holds.</summary>
public sealed class AllMatcher(IReadOnlyList<IMatcher> parts) : IMatcher
{
    public Phase Needs { get; } = parts.Count == 0 ? Phase.Connect : parts.Max(p => p.Needs);

    public Lookups Requires { get; } = parts.Aggregate(Lookups.None, (all, p) => all | p.Requires);

    public Task PrepareAsync(FilterContext context, CancellationToken cancellationToken) =>
        Task.WhenAll(parts.Where(p => p.Requires.HasFlag(Lookups.Matcher)).Select(p => p.PrepareAsync(context, cancellationToken)));

    public MatchResult Match(FilterContext context)
    {
        var evidence = new List<string>();
        foreach (var part in parts)
        {
            var r = part.Match(context);
            if (!r.Matched)
                return MatchResult.No;
            if (r.Evidence is not null)
                evidence.Add(r.Evidence);
        }
        return MatchResult.Yes(string.Join("; ", evidence));
    }
}

/// <summary>At least one condition holds (the first that does gives the evidence).</summary>
public sealed class AnyMatcher(IReadOnlyList<IMatcher> parts) : IMatcher
{
    public Phase Needs { get; } = parts.Count == 0 ? Phase.Connect : parts.Max(p => p.Needs);

    public Lookups Requires { get; } = parts.Aggregate(Lookups.None, (all, p) => all | p.Requires);

    public Task PrepareAsync(FilterContext context, CancellationToken cancellationToken) =>
        Task.WhenAll(parts.Where(p => p.Requires.HasFlag(Lookups.Matcher)).Select(p => p.PrepareAsync(context, cancellationToken)));

    public MatchResult Match(FilterContext context)
    {
        foreach (var part in parts)
        {
            var r = part.Match(context);
            if (r.Matched)
                return r;
        }
        return MatchResult.No;
    }
}

/// <summary>The condition does not hold.</summary>
public sealed class NotMatcher(IMatcher inner) : IMatcher
{
    public Phase Needs => inner.Needs;

    public Lookups Requires => inner.Requires;

    public Task PrepareAsync(FilterContext context, CancellationToken cancellationToken) => inner.PrepareAsync(context, cancellationToken);

    public MatchResult Match(FilterContext context) =>
        inner.Match(context).Matched ? MatchResult.No : MatchResult.Yes("not matched");
}
