namespace Gateway.Core;

public enum VerdictKind
{
    /// <summary>Go on with the next filter (perhaps with symbols and headers).</summary>
    Continue,

    /// <summary>Skip the rest of this phase's filters.</summary>
    Accept,

    /// <summary>Refuse with a 5xx reply.</summary>
    Reject,

    /// <summary>Refuse with a 4xx reply, so that the sender retries.</summary>
    Tempfail,

    /// <summary>Store the message instead of forwarding it; the client gets 250.</summary>
    Quarantine,

    /// <summary>Answer 250 and drop the message (only where the configuration asks for it).</summary>
    Discard,

    /// <summary>Answer and close the connection.</summary>
    Disconnect,
}

/// <summary>A named observation with a score, as Rspamd's symbols: what a filter found and how much it counts.</summary>
public sealed record Symbol(string Name, double Score, string? Detail = null)
{
    public override string ToString() => Detail is null ? $"{Name}({Score:0.##})" : $"{Name}({Score:0.##}: {Detail})";
}

/// <summary>
/// What one filter decided. <see cref="Source"/> names the filter (and rule) that produced it, so every reply and
/// log line can say why.
/// </summary>
public sealed record Verdict(VerdictKind Kind, string Source, Reply? Reply = null, IReadOnlyList<Symbol>? Symbols = null, IReadOnlyList<HeaderEdit>? Headers = null)
{
    public IReadOnlyList<Symbol> Symbols { get; init; } = Symbols ?? [];

    public IReadOnlyList<HeaderEdit> Headers { get; init; } = Headers ?? [];

    /// <summary>Reject, tempfail, quarantine, discard and disconnect end the phase and decide the transaction.</summary>
    public bool IsFinal => Kind is not (VerdictKind.Continue or VerdictKind.Accept);

    /// <summary>The reply for the client: the filter's own, or a default for the kind that names the filter.</summary>
    public Reply ReplyOrDefault() => Reply ?? Kind switch
    {
        VerdictKind.Tempfail => new Reply(451, "4.7.1", $"Try again later ({Source})"),
        VerdictKind.Disconnect => new Reply(421, "4.7.0", $"Closing connection ({Source})"),
        VerdictKind.Discard or VerdictKind.Accept or VerdictKind.Continue => new Reply(250, "2.0.0", "Ok"),
        VerdictKind.Quarantine => new Reply(250, "2.0.0", "Ok"),
        _ => new Reply(554, "5.7.1", $"Rejected by policy ({Source})"),
    };

    public static Verdict Continue(string source, params Symbol[] symbols) => new(VerdictKind.Continue, source, Symbols: symbols);

    public static Verdict Accept(string source) => new(VerdictKind.Accept, source);

    public static Verdict Reject(string source, Reply reply) => new(VerdictKind.Reject, source, reply);

    public static Verdict Tempfail(string source, Reply reply) => new(VerdictKind.Tempfail, source, reply);
}
