using Gateway.Configuration;
using Gateway.Tracking;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// <c>/</c>: transactions per hour for the last 24 hours by outcome, the filters and rules that decided most, and
/// the clients refused most, counted by the tracking store.
/// </summary>
public sealed class DashboardPage(Func<GatewayConfig> config, TimeProvider time)
{
    public async Task RenderAsync(HttpContext context)
    {
        if (config().Tracking is not { } tracking)
        {
            await MessagePages.NoTrackingAsync(context, "Dashboard").ConfigureAwait(false);
            return;
        }
        var now = time.GetUtcNow();
        var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        var since = end.AddHours(-24);
        var stats = new TrackingStats(TrackingDbs.For(tracking));
        IReadOnlyList<HourCount> perHour;
        IReadOnlyList<KeyCount> deciders, clients;
        try
        {
            perHour = await stats.PerHourAsync(since, context.RequestAborted).ConfigureAwait(false);
            deciders = await stats.TopDecidersAsync(since, 15, context.RequestAborted).ConfigureAwait(false);
            clients = await stats.TopRefusedClientsAsync(since, 15, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (MessagePages.IsStoreError(e))
        {
            await MessagePages.StoreDownAsync(context, "Dashboard", tracking, e).ConfigureAwait(false);
            return;
        }
        var totals = HourlyChart.Outcomes.Select(o => (o.Outcome, Count: perHour.Where(c => c.Outcome == o.Outcome).Sum(c => c.Count))).ToList();
        var body = Html.Of($"""
            <h1>Dashboard</h1>
            <p class="note">Last 24 hours (UTC), from the tracking store ({tracking.Describe()}).</p>
            <table id="totals"><tr>{Html.Join(totals, t => Html.Of($"<th>{t.Outcome}</th>"))}</tr>
            <tr>{Html.Join(totals, t => Html.Of($"<td class=\"n\"><a href=\"/messages?outcome={t.Outcome}&amp;since=24h\">{t.Count}</a></td>"))}</tr></table>
            {HourlyChart.Render(perHour, end)}
            <h2>What decided most (other than deliveries)</h2>
            {Table(deciders, "Filter or rule", "deciders", k => Html.Of($"<a href=\"/messages?outcome={k.Outcome}&amp;since=24h\">{k.Key}</a>"))}
            <h2>Clients refused most</h2>
            {Table(clients, "Client address", "clients", k => Html.Of($"{k.Key}"))}
            """);
        await ConsoleLayout.WriteAsync(context, "Dashboard", body).ConfigureAwait(false);
    }

    private static Html Table(IReadOnlyList<KeyCount> rows, string heading, string id, Func<KeyCount, Html> key) => rows.Count == 0
        ? Html.Of($"<p class=\"note\">None in the last 24 hours.</p>")
        : Html.Of($"""
            <table id="{id}"><tr><th>{heading}</th><th>Outcome</th><th>Transactions</th></tr>
            {Html.Join(rows, r => Html.Of($"<tr><td>{key(r)}</td><td class=\"{ConsoleLayout.OutcomeClass(r.Outcome)}\">{r.Outcome}</td><td class=\"n\">{r.Count}</td></tr>"))}
            </table>
            """);
}
