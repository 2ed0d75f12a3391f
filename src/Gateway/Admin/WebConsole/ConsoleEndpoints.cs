using System.Security.Claims;
using Gateway.Configuration;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// The web console's routes: /login and /logout, and behind the login the dashboard, rules, messages and quarantine
/// pages. Users are read from the configuration in force (a reload that removes a user or changes a password ends
/// that user's sessions at their next request). Every POST checks the antiforgery token first.
/// </summary>
public sealed class ConsoleEndpoints(Func<GatewayConfig> config, AdminConfig startConfig, LoginThrottle throttle, ILogger logger, TimeProvider time) : IAdminEndpoints
{
    public const string StampClaim = "gateway:stamp";

    /// <summary>A random id per login, so that a logout can end that session and no other.</summary>
    public const string SessionClaim = "gateway:session";

    /// <summary>
    /// Sessions ended by a logout, until their cookie would have expired anyway: the cookie is the whole session, so
    /// without this a copy of it taken before the logout would get in for hours. Kept in memory (see the README).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _loggedOut = new(StringComparer.Ordinal);

    /// <summary>One password check at a time: login attempts cannot take both cores from mail.</summary>
    private readonly SemaphoreSlim _verify = new(1, 1);

    /// <summary>Checked against when the name is unknown, so that an unknown name costs as long as a wrong password.</summary>
    private readonly PasswordHash _decoy = PasswordHash.Create(Guid.NewGuid().ToString(), PasswordHash.DefaultIterations);

    public IReadOnlyList<ConsoleUser> Users => (config().Admin ?? startConfig).Users;

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/login", context => LoginPageAsync(context, null, 200));
        routes.MapPost("/login", LoginAsync);
        routes.MapPost("/logout", async context =>
        {
            if (!await ValidAsync(context).ConfigureAwait(false))
                return;
            if (context.User.FindFirst(SessionClaim)?.Value is { } session)
                LoggedOut(session);
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            context.Response.Redirect("/login");
        });

        var pages = routes.MapGroup("").RequireAuthorization();
        var dashboard = new DashboardPage(config, time);
        pages.MapGet("/", dashboard.RenderAsync);
        pages.MapGet("/rules", context => RulesPage.RenderAsync(context, config()));
        var messages = new MessagePages(config);
        pages.MapGet("/messages", messages.SearchAsync);
        pages.MapGet("/messages/{id}", (HttpContext context, string id) => messages.ShowAsync(context, id));
        var quarantine = new QuarantinePages(config, logger);
        pages.MapGet("/quarantine", quarantine.ListAsync);
        pages.MapGet("/quarantine/{id}", (HttpContext context, string id) => quarantine.ShowAsync(context, id));
        pages.MapPost("/quarantine/{id}/release", async (HttpContext context, string id) =>
        {
            if (await ValidAsync(context).ConfigureAwait(false))
                await quarantine.ActAsync(context, id, release: true).ConfigureAwait(false);
        });
        pages.MapPost("/quarantine/{id}/delete", async (HttpContext context, string id) =>
        {
            if (await ValidAsync(context).ConfigureAwait(false))
                await quarantine.ActAsync(context, id, release: false).ConfigureAwait(false);
        });
    }

    /// <summary>Checks the antiforgery token of a POST; answers 400 and returns false when it is missing or wrong.</summary>
    public static async Task<bool> ValidAsync(HttpContext context)
    {
        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context).ConfigureAwait(false);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            await ConsoleLayout.WriteNoticeAsync(context, "Refused", Html.Of($"This form was not sent by this console (its anti-forgery token is missing or out of date). Go back, reload the page and try again."), 400).ConfigureAwait(false);
            return false;
        }
    }

    private Task LoginPageAsync(HttpContext context, string? error, int status)
    {
        var returnUrl = LocalUrl(context.Request.Query["return"].ToString());
        var message = error is null ? Html.Empty : Html.Of($"<p class=\"error\" id=\"login-error\">{error}</p>");
        return ConsoleLayout.WriteAsync(context, "Log in", Html.Of($"""
            <div class="login"><h1>Log in</h1>{message}
            <form method="post" action="/login?return={Uri.EscapeDataString(returnUrl)}">{ConsoleLayout.TokenField(context)}
            <label>User <input name="user" id="user" autocomplete="username" required maxlength="64"></label>
            <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
            <button type="submit" id="login">Log in</button></form></div>
            """), status);
    }

    private async Task LoginAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType || !await ValidAsync(context).ConfigureAwait(false))
        {
            if (!context.Response.HasStarted)
                context.Response.StatusCode = 400;
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var name = form["user"].ToString();
        // Quoted when it is not a plain word, so that a name such as "x client=203.0.113.9" cannot add a field.
        var logged = name.Length <= 64 ? Logging.LogText.AppendToken(new System.Text.StringBuilder(), name).ToString() : Logging.LogText.Quote(name, 64);
        var password = form["password"].ToString();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var user = name.Length <= 64 && password.Length <= 1024 ? Users.FirstOrDefault(u => u.Name == name) : null;
        // The lock is checked, the password verified and a failure counted one attempt at a time: a burst of
        // concurrent attempts cannot all pass the check before the first of them is counted.
        string? locked, nowLocked = null;
        var ok = false;
        await _verify.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            locked = await throttle.LockedAsync(user?.Name, address, context.RequestAborted).ConfigureAwait(false);
            if (locked is null)
            {
                ok = (user?.PasswordHash ?? _decoy).Verify(password) && user is not null;
                // Counted whatever the client does now: an attempt abandoned while it is counted still counts.
                if (!ok)
                    nowLocked = await throttle.FailedAsync(user?.Name, address, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _verify.Release();
        }
        if (locked is not null)
        {
            logger.LogWarning("console login refused user={User} client={Client}: {What} locked out after repeated failures", logged, address, locked);
            await Task.Delay(throttle.Policy.Delay, time, context.RequestAborted).ConfigureAwait(false);
            await LoginPageAsync(context, "Too many failed logins: try again later.", 429).ConfigureAwait(false);
            return;
        }
        if (!ok)
        {
            logger.LogWarning("console login failed user={User} client={Client}{Locked}", logged, address,
                nowLocked is null ? "" : $"; {nowLocked} locked out for {throttle.Policy.Duration}");
            await Task.Delay(throttle.Policy.Delay, time, context.RequestAborted).ConfigureAwait(false);
            await LoginPageAsync(context, "Wrong user name or password.", 401).ConfigureAwait(false);
            return;
        }
        await throttle.SucceededAsync(user!.Name, address, context.RequestAborted).ConfigureAwait(false);
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Name), new Claim(StampClaim, user.PasswordHash.Stamp),
            new Claim(SessionClaim, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)))], CookieAuthenticationDefaults.AuthenticationScheme);
        // The redirect named here: signing in on the login path, the cookie handler would otherwise redirect to the
        // return parameter as it came, before LocalUrl has looked at it.
        var target = LocalUrl(context.Request.Query["return"].ToString());
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity), new AuthenticationProperties { RedirectUri = target }).ConfigureAwait(false);
        logger.LogInformation("console login user={User} client={Client}", user.Name, address);
        context.Response.Redirect(target);
    }

    /// <summary>A session stays valid while its user is configured with the same password and it has not logged out.</summary>
    public bool StillValid(ClaimsPrincipal principal) =>
        principal.Identity?.Name is { } name && Users.FirstOrDefault(u => u.Name == name) is { } user
        && principal.FindFirst(StampClaim)?.Value == user.PasswordHash.Stamp
        && principal.FindFirst(SessionClaim)?.Value is { } session && !_loggedOut.ContainsKey(session);

    private void LoggedOut(string session)
    {
        var now = time.GetUtcNow();
        foreach (var (old, until) in _loggedOut)
        {
            if (until <= now)
                _loggedOut.TryRemove(old, out _);
        }
        _loggedOut[session] = now + ConsoleHosting.SessionLifetime;
    }

    /// <summary>
    /// Only a path on this console (not "//host" or "/\host", which browsers take as another site), in ASCII (a
    /// Location header cannot carry anything else: Kestrel would fail the answer, and the login with it).
    /// </summary>
    public static string LocalUrl(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || url[1] is not '/' and not '\\') && url.All(c => char.IsAscii(c) && !char.IsControl(c)) ? url : "/";
}
