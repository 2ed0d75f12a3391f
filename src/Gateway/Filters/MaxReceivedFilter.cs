using Gateway.Configuration;
using Gateway.Pipeline;
using MimeKit;

namespace Gateway.Filters;

/// <summary>
/// Refuses a message that has passed through too many hops (a mail loop), counting its Received headers, as
/// Postfix's hopcount_limit does: 554 5.4.6.
/// </summary>
public sealed class MaxReceivedFilter(string name, int max) : IFilter
{
    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public IReadOnlySet<Phase> Phases => DataOnly;

    public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        if (context.Headers is not { } headers)
            return ValueTask.FromResult(Verdict.Continue(name));
        var count = headers.Count(h => h.Id == HeaderId.Received);
        return ValueTask.FromResult(count > max
            ? Verdict.Reject(name, new Reply(554, "5.4.6", $"Too many hops ({count} Received headers), mail loop? ({name})")) with
            {
                Symbols = [new Symbol("MAIL_LOOP", 0, $"{count} Received headers")],
            }
            : Verdict.Continue(name));
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory) =>
        new MaxReceivedFilter(name, options.Int("max", 50, 1, 1000));
}
