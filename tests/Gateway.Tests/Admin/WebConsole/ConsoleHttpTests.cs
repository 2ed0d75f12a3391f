using System.Net;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;

namespace Gateway.Tests.Admin.WebConsole;

/// <summary>The console over HTTP against a real gateway: who gets in, CSRF, encoding of hostile values, headers.</summary>
public class ConsoleHttpTests
{
    private static readonly string[] Pages = ["/", "/rules", "/messages", "/messages?q=ABC.1", "/messages/ABC.1", "/quarantine", "/quarantine/ABC.1"];

    [Fact]
    public async Task Every_page_and_action_sends_a_visitor_who_is_not_logged_in_to_the_login_while_metrics_and_health_stay_open()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var client = site.Client(out _);
        foreach (var page in Pages)
        {
            using var response = await client.GetAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{page}: {response.StatusCode}");
            Assert.Equal($"/login?return={Uri.EscapeDataString(page)}", response.Headers.Location!.PathAndQuery);
        }
        foreach (var action in new[] { "/quarantine/ABC.1/release", "/quarantine/ABC.1/delete" })
        {
            using var response = await client.PostAsync(action, new FormUrlEncodedContent([]));
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{action}: {response.StatusCode}");
            Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery);
        }
        using var metrics = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        using var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        // A wrong password, an unknown user and a redirect to another site after login get nowhere.
        using var wrong = await ConsoleSite.LogInAsync(client, "alice", "not the password");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Wrong user name or password.", await wrong.Content.ReadAsStringAsync());
        using var unknown = await ConsoleSite.LogInAsync(client, "mallory", ConsoleSite.AlicePassword);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        using var denied = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        var token = await ConsoleSite.TokenAsync(client, "/login");
        using var offsite = await client.PostAsync("/login?return=%2F%2Fevil.test%2F", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = token, ["user"] = "alice", ["password"] = ConsoleSite.AlicePassword,
        }));
        Assert.Equal("/", offsite.Headers.Location!.OriginalString);
        Assert.Contains(site.Gateway.Logs.Lines, l => l.Contains("console login failed user=mallory client=127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_without_the_antiforgery_token_is_refused_with_400_and_changes_nothing()
    {
        await using var site = await ConsoleSite.StartAsync();
        Assert.Equal("250 2.0.0 Ok: held for review", await site.SendAsync("carol@sender.test", "dave@example.test", "From: carol@sender.test\nSubject: Your invoice\n\npay"));
        var held = await site.Probe.WaitForAsync(r => r.QuarantineId is not null);
        using var alice = await site.LoggedInAsync();
        using var bob = await site.LoggedInAsync("bob", ConsoleSite.BobPassword);

        using var noToken = await alice.PostAsync($"/quarantine/{held.Id}/release", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        // Bob's token does not go with Alice's session.
        var bobsToken = await ConsoleSite.TokenAsync(bob, $"/quarantine/{held.Id}");
        using var otherToken = await alice.PostAsync($"/quarantine/{held.Id}/delete", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = bobsToken }));
        Assert.Equal(HttpStatusCode.BadRequest, otherToken.StatusCode);
        using var logout = await alice.PostAsync("/logout", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);

        Assert.Empty(site.Upstream.Messages);
        using var page = await alice.GetAsync($"/quarantine/{held.Id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // With its token, the same change goes through, logged with the console user.
        var token = await ConsoleSite.TokenAsync(alice, $"/quarantine/{held.Id}");
        using var delete = await alice.PostAsync($"/quarantine/{held.Id}/delete", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = token }));
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Contains("deleted", await delete.Content.ReadAsStringAsync());
        Assert.Contains(site.Gateway.Logs.Lines, l => l.Contains($"quarantine delete id={held.Id} by=console:alice done=True", StringComparison.Ordinal));
        var audit = await alice.GetStringAsync("/quarantine");
        Assert.Matches($@"<td>{Regex.Escape(held.Id)}</td><td>delete</td><td>console:alice</td>", audit);
    }

    [Fact]
    public async Task Values_a_sender_controls_are_shown_as_text_never_as_markup()
    {
        await using var site = await ConsoleSite.StartAsync();
        const string attack = "<script>alert(1)</script>";
        var quarantined = await site.SendAsync("x@sender.test", "dave@example.test", $$"""
            From: "{{attack}}" <x@sender.test>
            Subject: invoice {{attack}} =?UTF-8?B?{{Convert.ToBase64String("gpj.\u202Eexe"u8)}}?=
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/html

            <html><head><style>p{color:red}</style><script>steal()</script></head><body><p>Pay <b>now</b> &amp; <a href="https://evil.test/x">here</a></p><img src=x onerror=alert(2)></body></html>
            --b
            Content-Type: application/octet-stream; name="<img src=x onerror=alert(3)>.exe"
            Content-Disposition: attachment; filename="<img src=x onerror=alert(3)>.exe"
            Content-Transfer-Encoding: base64

            TVqQAAMAAAAEAAAA
            --b--
            """);
        Assert.StartsWith("250", quarantined);
        Assert.StartsWith("554", await site.SendAsync("y@sender.test", "dave@example.test", $"From: y@sender.test\nSubject: lottery {attack}\n\nclaim"));
        var held = await site.Probe.WaitForAsync(r => r.QuarantineId is not null);
        var refused = await site.Probe.WaitForAsync(r => r.DecidedBy == "rule:no-lottery");
        await site.FlushTrackingAsync();
        using var client = await site.LoggedInAsync();

        foreach (var page in new[] { "/", "/messages?subject=script", $"/messages/{held.Id}", $"/messages/{refused.Id}", "/quarantine", $"/quarantine/{held.Id}" })
        {
            var html = await client.GetStringAsync(page);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("\u202E", html);
            if (page != "/")
                Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        }
        var shown = await client.GetStringAsync($"/quarantine/{held.Id}");
        // The HTML-only message is shown as its text: no markup, no script or style content, the link's target beside it.
        var text = Regex.Match(shown, "<pre id=\"text\">(.*?)</pre>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal("Pay now &amp; here &lt;https://evil.test/x&gt;", text.Trim());
        Assert.Contains("the text of its HTML part", shown);
        Assert.Contains("<td>&lt;img src=x onerror=alert(3)&gt;.exe</td><td>application/octet-stream</td>", shown.Replace("&#x3D;", "="));
        Assert.Contains("gpj.\\u{202e}exe", shown);
        Assert.Contains("hold-invoices", Regex.Match(shown, "<dd id=\"reason\">(.*?)</dd>").Groups[1].Value);
    }

    [Fact]
    public async Task Pages_carry_a_strict_policy_no_framing_and_no_caching_and_the_session_cookie_is_httponly_and_samesite_strict()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var client = site.Client(out var cookies);
        using var login = await client.GetAsync("/login");
        AssertHeaders(login);
        using var response = await ConsoleSite.LogInAsync(client, "alice", ConsoleSite.AlicePassword);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("gateway_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        foreach (var page in Pages)
        {
            using var authenticated = await client.GetAsync(page);
            Assert.True(authenticated.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{page}: {authenticated.StatusCode}");
            AssertHeaders(authenticated);
        }
    }

    private static void AssertHeaders(HttpResponseMessage response)
    {
        var csp = string.Join(",", response.Headers.GetValues("Content-Security-Policy"));
        Assert.StartsWith("default-src 'none'; style-src 'sha256-", csp);
        Assert.DoesNotContain("unsafe", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
    }

    [Fact]
    public async Task The_dashboard_counts_by_outcome_and_the_rules_page_shows_what_a_monitor_rule_would_have_done()
    {
        await using var site = await ConsoleSite.StartAsync();
        Assert.StartsWith("250", await site.SendAsync("a@sender.test", "dave@example.test", "From: a@sender.test\nSubject: crypto offer\n\nbuy"));
        Assert.StartsWith("554", await site.SendAsync("m@evil.test", "dave@example.test", "From: m@evil.test\nSubject: lottery\n\nwin"));
        Assert.StartsWith("554", await site.SendAsync("m@evil.test", "dave@example.test", "From: m@evil.test\nSubject: lottery again\n\nwin"));
        await site.Probe.WaitForAsync(r => r.Subject == "lottery again");
        await site.FlushTrackingAsync();
        using var client = await site.LoggedInAsync();

        var dashboard = await client.GetStringAsync("/");
        Assert.Matches("<th>delivered</th><th>quarantined</th><th>rejected</th>", dashboard);
        Assert.Matches(@"<td class=""n""><a href=""/messages\?outcome=delivered&amp;since=24h"">1</a></td><td class=""n""><a[^>]*>0</a></td><td class=""n""><a[^>]*>2</a></td>", dashboard);
        Assert.Equal(2, Regex.Matches(dashboard, "<rect ").Count); // the current hour's bar: delivered and rejected segments
        Assert.Contains("<title>", dashboard);
        Assert.Matches(@"<td><a href=""/messages\?outcome=rejected&amp;since=24h"">rule:no-lottery</a></td><td class=""o-rejected"">rejected</td><td class=""n"">2</td>", dashboard);
        Assert.Matches(@"<table id=""clients"">.*\n<tr><td>127\.0\.0\.1</td><td class=""o-refused"">refused</td><td class=""n"">2</td></tr>", dashboard);

        var rules = await client.GetStringAsync("/rules");
        Assert.Contains($"<code id=\"rules-hash\">{site.Gateway.Config.Rules.Set.Hash}</code>", rules);
        Assert.Matches(@"<tr id=""rule-watch-crypto""><td>watch-crypto</td><td>Would refuse crypto offers</td><td>data</td><td>monitor</td><td>would reject</td><td class=""n"">[1-9]\d* would have</td>", rules);
        Assert.DoesNotContain("id=\"drift\"", rules);
        File.AppendAllText(Path.Combine(site.Gateway.Directory, "r.yaml"), "\n# edited\n");
        Assert.Contains("id=\"drift\"", await client.GetStringAsync("/rules"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_admin_keys_a_session_outlives_a_restart_of_the_console_and_without_them_it_does_not(bool keys)
    {
        await using var site = await ConsoleSite.StartAsync(keys ? "  keys: console-keys\n" : "");
        var client = site.Client(out var cookies);
        using (var login = await ConsoleSite.LogInAsync(client, "alice", ConsoleSite.AlicePassword))
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/rules")).StatusCode);

        await site.Gateway.RestartAdminAsync();
        using var again = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = site.Uri };
        using var page = await again.GetAsync("/rules");

        Assert.Equal(keys ? HttpStatusCode.OK : HttpStatusCode.Redirect, page.StatusCode);
        if (keys)
        {
            var directory = Path.Combine(site.Gateway.Directory, "console-keys");
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            Assert.NotEmpty(Directory.GetFiles(directory, "key-*.xml"));
            Assert.DoesNotContain(site.Gateway.Logs.Lines, l => l.Contains("XML encryptor", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_reload_that_removes_a_user_ends_that_users_session_and_the_user_cannot_log_in_again()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var alice = await site.LoggedInAsync();
        using var bob = await site.LoggedInAsync("bob", ConsoleSite.BobPassword);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/rules")).StatusCode);

        var path = Path.Combine(site.Gateway.Directory, "gateway.yaml");
        File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.Contains("name: bob", StringComparison.Ordinal)));
        Assert.True(site.Gateway.Server.Reload());

        using var ended = await bob.GetAsync("/rules");
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.StartsWith("/login", ended.Headers.Location!.PathAndQuery);
        using var again = await ConsoleSite.LogInAsync(bob, "bob", ConsoleSite.BobPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/rules")).StatusCode);
    }

    [Fact]
    public async Task Without_a_tracking_store_the_message_pages_say_so()
    {
        await using var site = await ConsoleSite.StartAsync(tracking: false);
        using var client = await site.LoggedInAsync();
        foreach (var page in new[] { "/", "/messages", "/messages/ABC.1" })
            Assert.Contains("The tracking store is not configured", await client.GetStringAsync(page));
        Assert.Contains("<h1>Quarantine</h1>", await client.GetStringAsync("/quarantine"));
    }

    [Fact]
    public async Task Without_users_the_console_is_off_and_only_metrics_and_health_answer()
    {
        await using var site = await ConsoleSite.StartAsync(users: false);
        using var client = site.Client(out _);
        foreach (var page in Pages.Append("/login"))
        {
            using var response = await client.GetAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{page}: {response.StatusCode}");
        }
        using var login = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "alice", ["password"] = "x" }));
        Assert.Equal(HttpStatusCode.NotFound, login.StatusCode);
        using var metrics = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var (exit, output, _) = CliRunner.Invoke("check", "--config", Path.Combine(site.Gateway.Directory, "gateway.yaml"));
        Assert.Equal(0, exit);
        Assert.Contains($"admin: http://127.0.0.1:0 (metrics, health); web console off: no admin.users", output);
    }

    [Fact]
    public async Task With_admin_tls_the_console_answers_over_https_and_the_session_cookie_is_secure()
    {
        await using var site = await ConsoleSite.StartAsync("  tls: { certificate: cert.pem, key: key.pem }\n", prepare: dir => TestCertificates.WritePem(dir, "localhost"));
        Assert.Equal("https", site.Uri.Scheme);
        using var client = site.Client(out _);
        using var response = await ConsoleSite.LogInAsync(client, "alice", ConsoleSite.AlicePassword);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("gateway_session=", StringComparison.Ordinal));
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<h1>Dashboard</h1>", await client.GetStringAsync("/"));
        Assert.StartsWith("max-age=", (await client.GetAsync("/")).Headers.GetValues("Strict-Transport-Security").Single());
    }

    [Fact]
    public async Task Logging_out_ends_the_session_on_the_server_so_a_copy_of_its_cookie_no_longer_gets_in()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var client = site.Client(out var cookies);
        using (var login = await ConsoleSite.LogInAsync(client, "alice", ConsoleSite.AlicePassword))
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var session = cookies.GetCookies(site.Uri)["gateway_session"]!.Value;
        var token = await ConsoleSite.TokenAsync(client, "/");
        using (var logout = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = token })))
            Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        // The cookie as it was before the logout (kept by a proxy, a shared machine, a stolen copy).
        using var copy = site.Client(out var copied);
        copied.Add(site.Uri, new Cookie("gateway_session", session));
        using var replayed = await copy.GetAsync("/quarantine");
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.StartsWith("/login", replayed.Headers.Location!.PathAndQuery);

        // Another session of the same user is not ended by this one's logout.
        using var other = await site.LoggedInAsync();
        using var still = await other.GetAsync("/quarantine");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task A_login_name_cannot_add_a_field_to_the_log_line()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var client = site.Client(out _);
        using (var failed = await ConsoleSite.LogInAsync(client, "x client=203.0.113.9", "wrong"))
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        var line = await site.Gateway.Logs.WaitForAsync(l => l.Contains("console login failed", StringComparison.Ordinal));
        Assert.Contains("console login failed user=\"x client\\x3d203.0.113.9\" client=127.0.0.1", line);
    }

    [Fact]
    public async Task A_non_ascii_return_path_does_not_break_the_login()
    {
        await using var site = await ConsoleSite.StartAsync();
        using var client = site.Client(out _);
        // A link to the login with a return path a browser would never send unencoded: logged in, sent home.
        var token = await ConsoleSite.TokenAsync(client, "/login");
        using var login = await client.PostAsync("/login?return=%2F%C3%A9", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = token, ["user"] = "alice", ["password"] = ConsoleSite.AlicePassword,
        }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/", login.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_search_from_longer_ago_than_a_date_can_say_finds_everything_instead_of_failing_with_500()
    {
        await using var site = await ConsoleSite.StartAsync();
        Assert.StartsWith("250", await site.SendAsync("carol@sender.test", "dave@example.test", "From: carol@sender.test\nSubject: hello\n\nhi"));
        await site.Probe.WaitForAsync(r => r.Subject == "hello");
        await site.FlushTrackingAsync();
        using var client = await site.LoggedInAsync();
        using var response = await client.GetAsync("/messages?since=9999999d");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<table id=\"results\">", await response.Content.ReadAsStringAsync());
    }
}
