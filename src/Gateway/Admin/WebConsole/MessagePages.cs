using Gateway.Cli;
using Gateway.Configuration;
using Gateway.Tracking;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// <c>/messages?q=...</c> searches the tracking store (id, sender, recipient, subject, time range, outcome);
/// <c>/messages/{id}</c> shows one transaction: its recipients' outcomes and its evidence filter by filter, rule by rule.
/// </summary>
public sealed class MessagePages(Func<GatewayConfig> config)
{
    private static readonly string[] OutcomeNames = [.. Enum.GetValues<TransactionOutcome>().Select(TrackedTransaction.Name)];

    public async Task SearchAsync(HttpContext context)
    {
        if (config().Tracking is null)
        {
            await NoTrackingAsync(context, "Messages").ConfigureAwait(false);
            return;
        }
        var q = context.Request.Query;
        string? Field(string name) => q[name].ToString() is { Length: > 0 and <= 500 } v ? v.Trim() : null;
        var id = Field("q") is { } raw ? IdOf(raw) : null;
        var (from, to, subject, sinceText, untilText) = (Field("from"), Field("to"), Field("subject"), Field("since"), Field("until"));
        var outcome = Field("outcome") is { } o && OutcomeNames.Contains(o) ? o : null;
        var now = DateTimeOffset.UtcNow;
        var errors = new List<string>();
        var since = Time(sinceText, now, "From", errors);
        var until = Time(untilText, now, "Until", errors);
        var searched = id is not null || from is not null || to is not null || subject is not null || since is not null || until is not null || outcome is not null;
        var form = Html.Of($"""
            <form class="search" method="get" action="/messages">
            <label>Id or reference <input name="q" id="q" value="{Field("q")}" placeholder="51C6D126SHL0.1, Message-ID"></label>
            <label>Sender <input name="from" value="{from}"></label>
            <label>Recipient <input name="to" value="{to}"></label>
            <label>Subject <input name="subject" value="{subject}"></label>
            <label>From <input name="since" value="{sinceText}" placeholder="2h, 7d, 2026-12-07T08:00Z"></label>
            <label>Until <input name="until" value="{untilText}"></label>
            <label>Outcome <select name="outcome"><option value="">any</option>{Html.Join(OutcomeNames, n => n == outcome ? Html.Of($"<option selected>{n}</option>") : Html.Of($"<option>{n}</option>"))}</select></label>
            <button type="submit" id="search">Search</button></form>
            {Html.Join(errors, e => Html.Of($"<p class=\"error\">{e}</p>"))}
            """);
        IReadOnlyList<TrackedTransaction> found = [];
        if (errors.Count == 0)
        {
            try
            {
                found = await Api().SearchAsync(new TrackingQuery
                {
                    Id = id, From = from, To = to, Subject = subject, Since = since, Until = until, Outcomes = outcome is null ? [] : [outcome], Limit = 200,
                }, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStoreError(e))
            {
                await StoreDownAsync(context, "Messages", config().Tracking!, e).ConfigureAwait(false);
                return;
            }
        }
        var results = found.Count == 0
            ? Html.Of($"<p class=\"note\" id=\"no-results\">{(searched ? "Nothing found." : "No transactions recorded yet.")}</p>")
            : Html.Of($"""
                <p class="note">{found.Count} transaction(s), newest first{(found.Count == 200 ? " (the first 200: narrow the search)" : "")}.</p>
                <table id="results"><tr><th>Time (UTC)</th><th>Id</th><th>Outcome</th><th>Sender</th><th>Recipients</th><th>Subject</th><th>Decided by</th><th>Client</th></tr>
                {Html.Join(found, Row)}
                </table>
                """);
        await ConsoleLayout.WriteAsync(context, "Messages", Html.Of($"<h1>Messages</h1>{form}{results}")).ConfigureAwait(false);
    }

    private static Html Row(TrackedTransaction t) => Html.Of($"""
        <tr><td>{ConsoleLayout.Time(t.Time)}</td><td><a href="/messages/{Uri.EscapeDataString(t.Id)}">{t.Id}</a></td>
        <td class="{ConsoleLayout.OutcomeClass(t.Outcome)}">{t.Outcome}</td><td>{t.Sender}</td><td>{string.Join(", ", t.Recipients.Select(r => r.Address))}</td>
        <td>{t.Subject}</td><td>{t.DecidedBy}</td><td>{t.ClientAddress}</td></tr>
        """);

    public async Task ShowAsync(HttpContext context, string id)
    {
        if (config().Tracking is null)
        {
            await NoTrackingAsync(context, "Message").ConfigureAwait(false);
            return;
        }
        TrackedTransaction? t;
        try
        {
            t = await Api().GetAsync(IdOf(id), context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreError(e))
        {
            await StoreDownAsync(context, "Message", config().Tracking!, e).ConfigureAwait(false);
            return;
        }
        if (t is null)
        {
            await ConsoleLayout.WriteNoticeAsync(context, "Not found", Html.Of($"No transaction '{id}' in the tracking store."), 404).ConfigureAwait(false);
            return;
        }
        var quarantine = t.QuarantineId is { } qid ? Html.Of($"<dt>Quarantine</dt><dd><a href=\"/quarantine/{Uri.EscapeDataString(qid)}\">{qid}</a></dd>") : Html.Empty;
        var body = Html.Of($"""
            <h1>Transaction <span id="tx-id">{t.Id}</span></h1>
            <dl id="summary">
            <dt>Time</dt><dd>{ConsoleLayout.Time(t.Time)} ({t.DurationMs} ms)</dd>
            <dt>Outcome</dt><dd class="{ConsoleLayout.OutcomeClass(t.Outcome)}" id="outcome">{t.Outcome}</dd>
            <dt>Decided by</dt><dd id="decided-by">{t.DecidedBy}</dd>
            <dt>Reply</dt><dd id="reply">{t.Reply}</dd>
            <dt>Score</dt><dd>{t.Score}</dd>
            <dt>Client</dt><dd>{t.ClientAddress} {t.ClientName} (HELO {t.Helo}; TLS {t.Tls}{(t.Auth.Length > 0 ? "; " + t.Auth : "")})</dd>
            <dt>Sender</dt><dd id="sender">{t.Sender}</dd>
            <dt>Subject</dt><dd id="subject">{t.Subject}</dd>
            <dt>Message-ID</dt><dd>{t.MessageId}</dd>
            <dt>Size</dt><dd>{t.Size} bytes</dd>
            <dt>Upstream</dt><dd>{t.Upstream}</dd>
            <dt>Session</dt><dd>{t.SessionId} on {t.Gateway}</dd>
            <dt>Rule set</dt><dd>{t.RuleSet}</dd>
            {quarantine}
            </dl>
            <h2>Recipients</h2>
            <table id="recipients"><tr><th>Recipient</th><th>Accepted at RCPT</th><th>Outcome</th><th>Reply</th><th>Refused by</th></tr>
            {Html.Join(t.Recipients, r => Html.Of($"<tr><td>{r.Address}</td><td>{(r.Accepted ? "yes" : "no")}</td><td class=\"{ConsoleLayout.OutcomeClass(r.Outcome)}\">{r.Outcome}</td><td>{r.Reply}</td><td>{r.RefusedBy}</td></tr>"))}
            </table>
            <h2>Evidence, filter by filter</h2>
            {Evidence(t)}
            <h2>Symbols</h2>
            {Symbols(t.Symbols)}
            """);
        await ConsoleLayout.WriteAsync(context, $"Transaction {t.Id}", body).ConfigureAwait(false);
    }

    private static Html Evidence(TrackedTransaction t) => t.Evidence.Count == 0
        ? Html.Of($"<p class=\"note\">No filter ran (the transaction ended before any phase with filters).</p>")
        : Html.Of($"""
            <table id="evidence"><tr><th>Phase</th><th>Filter</th><th>Verdict</th><th>Source</th><th>Reply</th><th>Symbols</th><th>ms</th></tr>
            {Html.Join(t.Evidence, e => Html.Of($"<tr><td>{e.Phase}</td><td>{e.Filter}</td><td>{e.Verdict}</td><td>{e.Source}</td><td>{e.Reply}</td><td>{Symbols(e.Symbols)}</td><td class=\"n\">{e.ElapsedMs}</td></tr>"))}
            </table>
            """);

    private static Html Symbols(IReadOnlyList<TrackedSymbol> symbols) => symbols.Count == 0
        ? Html.Empty
        : Html.Of($"<ul>{Html.Join(symbols, s => Html.Of($"<li><code>{s.Name}</code> ({s.Score}){(s.Detail is null ? "" : ": ")}{s.Detail}</li>"))}</ul>");

    private TrackingApi Api() => new(config(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>"[ref 51C6D126SHL0.1]" as pasted from a bounce reads as the id inside.</summary>
    public static string IdOf(string text)
    {
        var id = text.Trim().Trim('[', ']').Trim();
        return id.StartsWith("ref ", StringComparison.OrdinalIgnoreCase) ? id[4..].Trim() : id;
    }

    private static DateTimeOffset? Time(string? text, DateTimeOffset now, string label, List<string> errors)
    {
        if (text is null)
            return null;
        if (TrackCommand.ParseSince(text, now) is { } time)
            return time;
        errors.Add($"{label} '{text}': give a time (2026-12-07, 2026-12-07T08:00Z) or how long ago (30m, 2h, 7d)");
        return null;
    }

    public static bool IsStoreError(Exception e) => e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException;

    public static Task NoTrackingAsync(HttpContext context, string title) => ConsoleLayout.WriteNoticeAsync(context, title,
        Html.Of($"The tracking store is not configured: add a 'tracking' section to gateway.yaml (see the README's Tracking section) to see transactions here."));

    public static Task StoreDownAsync(HttpContext context, string title, TrackingConfig tracking, Exception e) => ConsoleLayout.WriteNoticeAsync(context, title,
        Html.Of($"The tracking store ({tracking.Describe()}) cannot be read now: {e.Message}"), 503);
}
