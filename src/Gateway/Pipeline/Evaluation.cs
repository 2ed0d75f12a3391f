namespace Gateway.Pipeline;

/// <summary>One filter's verdict, in order, for logs and <c>gateway explain</c>.</summary>
public sealed record TraceEntry(Phase Phase, string Filter, Verdict Verdict, TimeSpan Elapsed);

/// <summary>
/// Everything the filters said about one transaction (session-level phases included): the trace, the symbols and
/// their total score, the headers to add, and the first final verdict.
/// </summary>
public sealed class Evaluation
{
    private readonly List<TraceEntry> _trace = [];
    private readonly List<Symbol> _symbols = [];
    private readonly List<HeaderEdit> _headers = [];

    public IReadOnlyList<TraceEntry> Trace => _trace;

    public IReadOnlyList<Symbol> Symbols => _symbols;

    public IReadOnlyList<HeaderEdit> Headers => _headers;

    public double Score { get; private set; }

    public void Add(TraceEntry entry)
    {
        _trace.Add(entry);
        foreach (var symbol in entry.Verdict.Symbols)
        {
            // The same finding again (a client-level filter listed at rcpt_to runs once per recipient) counts once.
            if (_symbols.Contains(symbol))
                continue;
            _symbols.Add(symbol);
            Score += symbol.Score;
        }
        _headers.AddRange(entry.Verdict.Headers);
    }

    /// <summary>A new evaluation holding the entries of <paramref name="parts"/>, in order.</summary>
    public static Evaluation Merge(params Evaluation[] parts)
    {
        var merged = new Evaluation();
        foreach (var part in parts)
        {
            foreach (var entry in part._trace)
                merged.Add(entry);
        }
        return merged;
    }

    /// <summary>"NAME(score: detail), ..." for logs and the symbols header.</summary>
    public string SymbolText => string.Join(", ", _symbols);
}
