using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// The page frame every console page is written in (navigation, the signed-in user, a logout button), its one
/// stylesheet, and the security headers. No script and nothing from elsewhere: the Content-Security-Policy allows
/// only this stylesheet (by its hash) and forms posted back to the console.
/// </summary>
public static class ConsoleLayout
{
    public const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#1d2330;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:center}
        header a{color:#cfe0ff;text-decoration:none}header a:hover{text-decoration:underline}
        header .who{margin-left:auto}header form{display:inline}
        main{padding:1em 1.5em;max-width:1200px}
        h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}
        table{border-collapse:collapse;background:#fff;margin:.5em 0;width:100%}
        th,td{border:1px solid #d8dce3;padding:.25em .5em;text-align:left;vertical-align:top}
        th{background:#eef0f4}td.n{text-align:right}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;background:#fff;padding:.5em;border:1px solid #d8dce3}
        dt{font-weight:600}dd{margin:0;word-break:break-all}
        pre{background:#fff;border:1px solid #d8dce3;padding:.5em;white-space:pre-wrap;word-break:break-word;max-height:40em;overflow:auto}
        form.search{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;background:#fff;padding:.5em;border:1px solid #d8dce3}
        form.search label{display:flex;flex-direction:column;font-size:.9em}
        button{padding:.3em .9em;cursor:pointer}button.danger{background:#b3261e;color:#fff;border:1px solid #8c1d18}
        .error{color:#b3261e;font-weight:600}.ok{color:#1e7b34;font-weight:600}.note{color:#5a6375}
        .login{max-width:22em;margin:4em auto;background:#fff;padding:1.5em;border:1px solid #d8dce3}
        .login label{display:block;margin:.5em 0}.login input{width:100%;box-sizing:border-box}
        .actions{display:flex;gap:1em;margin:1em 0}.actions form{display:inline}
        .o-delivered{color:#1e7b34}.o-rejected{color:#b3261e}.o-tempfailed{color:#b36b00}.o-quarantined{color:#6a3fb5}
        """;

    /// <summary>'default-src' none: no script, no frames, no fetches; the one stylesheet by hash; forms post back here only.</summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Headers for every answer of a listener that serves the console.</summary>
    public static void AddSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        if (response.HttpContext.Request.IsHttps)
            headers.StrictTransportSecurity = "max-age=31536000";
        if (!response.HttpContext.Request.Path.StartsWithSegments("/metrics") && !response.HttpContext.Request.Path.StartsWithSegments("/health"))
        {
            headers.CacheControl = "no-store";
            headers.Pragma = "no-cache";
        }
    }

    /// <summary>The hidden field carrying the antiforgery token, for a form that changes something.</summary>
    public static Html TokenField(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    public static async Task WriteAsync(HttpContext context, string title, Html body, int status = 200)
    {
        var user = context.User.Identity is { IsAuthenticated: true, Name: { } name } ? name : null;
        var header = user is null
            ? Html.Of($"<header><strong>Gateway</strong></header>")
            : Html.Of($"""
                <header><strong>Gateway</strong>
                <a href="/">Dashboard</a><a href="/messages">Messages</a><a href="/quarantine">Quarantine</a><a href="/rules">Rules</a>
                <span class="who">{user} <form method="post" action="/logout">{TokenField(context)}<button type="submit">Log out</button></form></span></header>
                """);
        var page = Html.Of($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>{title} - Gateway</title><style>{Html.Raw(Style)}</style></head>
            <body>{header}<main>{body}</main></body></html>
            """);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(page.ToString(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A page that says a part of the gateway is not set up, or not reachable.</summary>
    public static Task WriteNoticeAsync(HttpContext context, string title, Html message, int status = 200) =>
        WriteAsync(context, title, Html.Of($"<h1>{title}</h1><p class=\"note\">{message}</p>"), status);

    public static string OutcomeClass(string outcome) => "o-" + outcome;

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z";
}
