using Gateway.Configuration;
using MimeKit;
using Gateway.Quarantine;
using Gateway.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// <c>/quarantine</c> lists and searches held messages (newest first) with the latest releases and deletions;
/// <c>/quarantine/{id}</c> shows one: why it was held, its envelope, headers, text (as text) and attachments' names,
/// with Release and Delete buttons. Both actions go through <see cref="TrackingApi"/>, which logs them and keeps
/// them in the audit trail with the console user as who did it (<c>console:NAME</c>).
/// </summary>
public sealed class QuarantinePages(Func<GatewayConfig> config, ILogger logger)
{
    public async Task ListAsync(HttpContext context)
    {
        if (!config().Quarantine.IsConfigured)
        {
            await NoQuarantineAsync(context).ConfigureAwait(false);
            return;
        }
        var q = context.Request.Query;
        string? Field(string name) => q[name].ToString() is { Length: > 0 and <= 500 } v ? v.Trim() : null;
        var query = new QuarantineQuery { From = Field("from"), To = Field("to"), Subject = Field("subject"), Reason = Field("reason"), Limit = 10_000 };
        var api = Api();
        IReadOnlyList<QuarantineEntry> entries;
        IReadOnlyList<QuarantineAudit> audit;
        try
        {
            entries = await api.ListQuarantineAsync(query, context.RequestAborted).ConfigureAwait(false);
            audit = await api.Quarantine.AuditTrailAsync(null, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (MessagePages.IsStoreError(e))
        {
            await StoreDownAsync(context, api, e).ConfigureAwait(false);
            return;
        }
        var shown = entries.Reverse().Take(500).ToList();
        var body = Html.Of($"""
            <h1>Quarantine</h1>
            <form class="search" method="get" action="/quarantine">
            <label>Sender <input name="from" value="{query.From}"></label>
            <label>Recipient <input name="to" value="{query.To}"></label>
            <label>Subject <input name="subject" value="{query.Subject}"></label>
            <label>Reason <input name="reason" value="{query.Reason}"></label>
            <button type="submit">Search</button></form>
            <p class="note">{entries.Count} held message(s){(entries.Count > shown.Count ? $", the newest {shown.Count} shown" : "")}, newest first.</p>
            {(shown.Count == 0 ? Html.Empty : Html.Of($"""
                <table id="held"><tr><th>Time (UTC)</th><th>Id</th><th>Sender</th><th>Recipients</th><th>Subject</th><th>Why</th><th>Size</th></tr>
                {Html.Join(shown, Row)}
                </table>
                """))}
            <h2>Latest releases and deletions</h2>
            {(audit.Count == 0 ? Html.Of($"<p class=\"note\">None yet.</p>") : Html.Of($"""
                <table id="audit"><tr><th>Time (UTC)</th><th>Id</th><th>Action</th><th>By</th><th>Result</th></tr>
                {Html.Join(audit.Reverse().Take(20), a => Html.Of($"<tr><td>{ConsoleLayout.Time(a.Time)}</td><td>{a.Id}</td><td>{a.Action}</td><td>{a.Actor}</td><td>{a.Result}</td></tr>"))}
                </table>
                """))}
            """);
        await ConsoleLayout.WriteAsync(context, "Quarantine", body).ConfigureAwait(false);
    }

    private static Html Row(QuarantineEntry e) => Html.Of($"""
        <tr><td>{ConsoleLayout.Time(e.Time)}</td><td><a href="/quarantine/{Uri.EscapeDataString(e.Id)}">{e.Id}</a></td><td>{e.MailFrom}</td>
        <td>{string.Join(", ", e.RcptTo)}</td><td>{e.Subject}</td><td>{e.Reason}</td><td class="n">{e.Size}</td></tr>
        """);

    public async Task ShowAsync(HttpContext context, string id)
    {
        if (!config().Quarantine.IsConfigured)
        {
            await NoQuarantineAsync(context).ConfigureAwait(false);
            return;
        }
        var api = Api();
        QuarantineEntry? entry;
        MessagePreview? preview = null;
        string? unreadable = null;
        try
        {
            entry = await api.GetQuarantinedAsync(id, context.RequestAborted).ConfigureAwait(false);
            if (entry is not null)
            {
                await using var stream = await api.OpenQuarantinedMessageAsync(id, context.RequestAborted).ConfigureAwait(false);
                if (stream is not null)
                {
                    try
                    {
                        preview = MessagePreview.Read(stream);
                    }
                    catch (Exception e) when (e is FormatException or ParseException or ApplicationException or ArgumentException or NotSupportedException)
                    {
                        unreadable = e.Message;
                    }
                }
            }
        }
        catch (Exception e) when (MessagePages.IsStoreError(e))
        {
            await StoreDownAsync(context, api, e).ConfigureAwait(false);
            return;
        }
        if (entry is null)
        {
            await ConsoleLayout.WriteNoticeAsync(context, "Not found", Html.Of($"No quarantined message '{id}' (it may have been released, deleted or expired)."), 404).ConfigureAwait(false);
            return;
        }
        var token = ConsoleLayout.TokenField(context);
        var path = Uri.EscapeDataString(entry.Id);
        var content = preview is null
            ? Html.Of($"<p class=\"error\">The message cannot be read{(unreadable is null ? "" : ": " + unreadable)}.</p>")
            : Html.Of($"""
                <h2>Text{(preview.TextFromHtml ? " (the text of its HTML part: the message has no plain-text part)" : "")}</h2>
                <pre id="text">{Html.Text(preview.Text, keepLines: true)}</pre>{(preview.Truncated ? Html.Of($"<p class=\"note\">Cut at {MessagePreview.MaxText} characters.</p>") : Html.Empty)}
                <h2>Attachments</h2>
                {(preview.Attachments.Count == 0 ? Html.Of($"<p class=\"note\">None.</p>") : Html.Of($"""
                    <table id="attachments"><tr><th>Name</th><th>Type</th><th>Size (encoded)</th></tr>
                    {Html.Join(preview.Attachments, a => Html.Of($"<tr><td>{a.Name}</td><td>{a.ContentType}</td><td class=\"n\">{a.Size}</td></tr>"))}
                    </table>
                    """))}
                <h2>Headers</h2>
                <table id="headers">{Html.Join(preview.Headers, h => Html.Of($"<tr><th>{h.Name}</th><td>{h.Value}</td></tr>"))}</table>
                """);
        var body = Html.Of($"""
            <h1>Held message <span id="q-id">{entry.Id}</span></h1>
            <dl id="summary">
            <dt>Why</dt><dd id="reason">{entry.Reason}</dd>
            <dt>Decided by</dt><dd>{entry.DecidedBy} (score {entry.Score})</dd>
            <dt>Symbols</dt><dd>{string.Join(", ", entry.Symbols)}</dd>
            <dt>Held</dt><dd>{ConsoleLayout.Time(entry.Time)} on {entry.Gateway}; expires {ConsoleLayout.Time(entry.Expires)}</dd>
            <dt>Client</dt><dd>{entry.Client} (HELO {entry.Helo})</dd>
            <dt>Sender</dt><dd>{entry.MailFrom}</dd>
            <dt>Recipients</dt><dd>{string.Join(", ", entry.RcptTo)}</dd>
            <dt>Subject</dt><dd id="subject">{entry.Subject}</dd>
            <dt>Size</dt><dd>{entry.Size} bytes</dd>
            <dt>Tracking</dt><dd><a href="/messages/{path}">the transaction</a></dd>
            </dl>
            <div class="actions">
            <form method="post" action="/quarantine/{path}/release">{token}<button type="submit" id="release">Release to the recipients</button></form>
            <form method="post" action="/quarantine/{path}/delete">{token}<button type="submit" class="danger" id="delete">Delete</button></form>
            </div>
            {content}
            """);
        await ConsoleLayout.WriteAsync(context, $"Held message {entry.Id}", body).ConfigureAwait(false);
    }

    /// <summary>Release or delete, as the signed-in user; shows what came of it.</summary>
    public async Task ActAsync(HttpContext context, string id, bool release)
    {
        if (!config().Quarantine.IsConfigured)
        {
            await NoQuarantineAsync(context).ConfigureAwait(false);
            return;
        }
        var by = "console:" + context.User.Identity!.Name;
        var api = Api();
        QuarantineActionResult result;
        try
        {
            result = release
                ? await api.ReleaseAsync(id, by, upstream: null, context.RequestAborted).ConfigureAwait(false)
                : await api.DeleteAsync(id, by, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (MessagePages.IsStoreError(e))
        {
            await StoreDownAsync(context, api, e).ConfigureAwait(false);
            return;
        }
        var verb = release ? "Release" : "Delete";
        var body = Html.Of($"""
            <h1>{verb} {result.Id}</h1>
            <p class="{(result.Done ? "ok" : "error")}" id="result">{result.Message}</p>
            <p><a href="/quarantine">Back to the quarantine</a></p>
            """);
        await ConsoleLayout.WriteAsync(context, $"{verb} {result.Id}", body, result.Done ? 200 : 409).ConfigureAwait(false);
    }

    private TrackingApi Api()
    {
        var current = config();
        return new(current, logger, Cli.QuarantineCommand.ObserversFor(current, logger));
    }

    private static Task NoQuarantineAsync(HttpContext context) => ConsoleLayout.WriteNoticeAsync(context, "Quarantine",
        Html.Of($"No quarantine is configured ('quarantine.directory', or 'quarantine.store: database')."));

    private static Task StoreDownAsync(HttpContext context, TrackingApi api, Exception e) => ConsoleLayout.WriteNoticeAsync(context, "Quarantine",
        Html.Of($"The quarantine ({api.Quarantine.Describe()}) cannot be read now: {e.Message}"), 503);
}
