using System.Globalization;
using System.Text;
using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Session;

/// <summary>What the end of DATA decides: a refusal (or discard) with who decided, or the headers to add.</summary>
public sealed record DataDecision(Reply? Refusal, string Detail, string By, string AddedHeaders)
{
    /// <summary>Store the message in the quarantine instead of forwarding it.</summary>
    public bool Quarantine { get; init; }

    /// <summary>Put in front of the Subject (the score reached policy.thresholds.rewrite_subject).</summary>
    public string? SubjectPrefix { get; init; }

    /// <summary>Header fields to take out of the message as it is forwarded (changed or deleted by a filter).</summary>
    public IReadOnlyList<string> RemovedHeaders { get; init; } = [];

    /// <summary>A discard verdict: the client is told 250 and the message goes nowhere.</summary>
    public bool Discard { get; init; }

    /// <summary>A disconnect verdict: close the connection after the reply.</summary>
    public bool Close { get; init; }
}

/// <summary>
/// The end-of-DATA decision, shared by the live session and <c>gateway explain</c>: the data filters and rules,
/// a discard or quarantine decided earlier, the score thresholds, and the headers to add.
/// </summary>
public static class DataPhase
{
    public static async Task<DataDecision> DecideAsync(Connection connection, Transaction transaction, CancellationToken cancellationToken)
    {
        if (transaction.MessageOutcome is { } refused)
            return new(refused, "not forwarded", "smtp", "");

        var context = new FilterContext(Phase.Data, connection.View) { Message = transaction.Message };
        // Header fields too many or too big for any parser to read in bounded time: a definite refusal before any
        // filter starts (MimeKit's header parser is quadratic in one folded field).
        if (HeaderLimitVerdict(connection.View) is { } uninspectable)
        {
            transaction.Evaluation.Add(new TraceEntry(Phase.Data, uninspectable.Source, uninspectable, TimeSpan.Zero));
            return new(uninspectable.Reply, "not forwarded", uninspectable.Source, "");
        }
        var verdict = connection.Pipeline.Has(Phase.Data)
            ? await connection.Pipeline.RunAsync(context, transaction.Evaluation, cancellationToken).ConfigureAwait(false)
            : null;
        verdict ??= transaction.PendingAction;
        var session = connection.View;
        if (verdict is not null)
        {
            switch (verdict.Kind)
            {
                case VerdictKind.Discard:
                    return new(verdict.ReplyOrDefault(), "discarded", verdict.Source, "") { Discard = true };
                case VerdictKind.Quarantine:
                    return new(null, "quarantined", verdict.Source, AddedHeaders(session)) { Quarantine = true, SubjectPrefix = SubjectPrefix(session), RemovedHeaders = Removed(session) };
                case VerdictKind.Disconnect:
                    return new(verdict.ReplyOrDefault(), "not forwarded", verdict.Source, "") { Close = true };
                default:
                    return new(verdict.ReplyOrDefault(), "not forwarded", verdict.Source, "");
            }
        }

        var policy = session.Config.Policy;
        var score = session.Evaluation.Score;
        if (policy.Thresholds.Reject is { } rejectAt && score >= rejectAt)
            return new(new Reply(554, "5.7.1", $"Message refused by policy (score {score:0.##} reaches {rejectAt:0.##})"), "not forwarded", "score", "");
        var prefix = SubjectPrefix(session);
        if (policy.Thresholds.Quarantine is { } quarantineAt && score >= quarantineAt)
            return new(null, "quarantined", "score", AddedHeaders(session)) { Quarantine = true, SubjectPrefix = prefix, RemovedHeaders = Removed(session) };
        return new(null, "", "", AddedHeaders(session)) { SubjectPrefix = prefix, RemovedHeaders = Removed(session) };
    }

    /// <summary>The fields filters changed or deleted: the message's own go, a changed one comes back among the added headers.</summary>
    private static IReadOnlyList<string> Removed(SessionState session)
    {
        List<string>? names = null;
        foreach (var edit in session.Evaluation.Headers)
        {
            if (edit.Kind != HeaderEditKind.Add)
                (names ??= []).Add(edit.Name);
        }
        return names ?? (IReadOnlyList<string>)[];
    }

    /// <summary>
    /// A header block past the limits of the `mime` section is refused as uninspectable before anything parses
    /// it (filters, rules, forwarding): see <see cref="Mime.HeaderBlock"/> and <see cref="Mime.NestedHeaders"/>.
    /// </summary>
    private static Verdict? HeaderLimitVerdict(SessionState session)
    {
        if (session.Message is null)
            return null;
        string? violation;
        using (var stream = session.Message.OpenRead())
            violation = Mime.HeaderBlock.CheckLimits(stream, session.Config.Mime);
        if (violation is null)
        {
            using var whole = session.Message.OpenRead();
            violation = Mime.NestedHeaders.Check(whole, session.Config.Mime, skipTop: true);
        }
        if (violation is null)
            return null;
        return new Verdict(VerdictKind.Reject, "mime-limits",
            new Reply(554, "5.7.0", $"Message refused: it cannot be inspected within the limits ({violation})"),
            [new Symbol("MIME_LIMIT", 0, violation)]);
    }

    private static string? SubjectPrefix(SessionState session) =>
        session.Config.Policy.Thresholds.RewriteSubject is { } at && session.Evaluation.Score >= at ? session.Config.Policy.SubjectPrefix : null;


    /// <summary>The headers filters asked for, and X-Spam-Flag: YES with the score headers once the score reaches policy.thresholds.add_header.</summary>
    private static string AddedHeaders(SessionState session)
    {
        var evaluation = session.Evaluation;
        var policy = session.Config.Policy;
        var text = new StringBuilder();
        if (session.Authentication.AnyRan)
            text.Append(Authentication.AuthResultsHeader.Build(session.Config.Server.Hostname, Authentication.AuthenticationReport.Results(session.Authentication)));
        foreach (var edit in evaluation.Headers)
        {
            if (edit.Kind == HeaderEditKind.Delete)
                continue;
            text.Append(edit.Name).Append(": ").Append(UpstreamReply.Clean(edit.Value)).Append("\r\n");
        }
        if (policy.Thresholds.AddHeader is { } at && evaluation.Score >= at)
        {
            // The header mail clients, Sieve scripts and Exchange transport rules already match (SpamAssassin's).
            text.Append("X-Spam-Flag: YES\r\n");
            text.Append(policy.ScoreHeader).Append(": ").Append(evaluation.Score.ToString("0.##", CultureInfo.InvariantCulture)).Append("\r\n");
            text.Append(policy.SymbolsHeader).Append(": ").Append(UpstreamReply.Clean(evaluation.SymbolText)).Append("\r\n");
        }
        return text.ToString();
    }
}
