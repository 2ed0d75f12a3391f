using Gateway.Configuration;
using Gateway.Detection;
using Gateway.Pipeline;

namespace Gateway.Filters.Content;

/// <summary>
/// HTML smuggling (<see cref="HtmlSmugglingScanner"/>) in the HTML and SVG documents of a message, attachments and
/// HTML bodies: an <c>HTML_SMUGGLING</c> symbol naming the document and what its script does. It scores and refuses
/// nothing by itself: the shipped rules (rules/lookalike.yaml) refuse it.
/// </summary>
public sealed class HtmlSmugglingFilter(string name, IReadOnlyDictionary<string, double> scores) : IFilter
{
    public const string Symbol = "HTML_SMUGGLING";

    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double> { [Symbol] = 0 };

    public IReadOnlySet<Phase> Phases => DataOnly;

    public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        foreach (var document in context.View?.HtmlDocuments ?? [])
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? evidence;
            using (var reader = document.OpenText())
                evidence = HtmlSmugglingScanner.Scan(reader, document.IsSvg);
            if (evidence is not null)
            {
                var what = document.IsAttachment ? $"attachment '{Rules.Matchers.TextMatcher.Truncate(document.Name)}'" : "HTML body";
                return ValueTask.FromResult(Verdict.Continue(name, new Symbol(Symbol, scores[Symbol], $"{what}: {evidence}")));
            }
        }
        return ValueTask.FromResult(Verdict.Continue(name));
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory) =>
        new HtmlSmugglingFilter(name, ScoreOptions.Read(options, DefaultScores));
}
