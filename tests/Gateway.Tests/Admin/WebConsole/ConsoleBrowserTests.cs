using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using OpenQA.Selenium;

namespace Gateway.Tests.Admin.WebConsole;

/// <summary>
/// The console in a real browser (Debian's Chromium, headless) against a real gateway: what an administrator does
/// with it, click by click.
/// </summary>
[Collection("browser")]
public partial class ConsoleBrowserTests(Browser browser)
{
    [Fact]
    public async Task A_wrong_password_is_refused_and_repeated_failures_lock_the_user_and_the_address_out()
    {
        await using var site = await ConsoleSite.StartAsync("  lockout: { failures: 3, duration: 15m, delay: 1ms }\n");
        browser.LogIn(site.Uri, "alice", ConsoleSite.AlicePassword);
        Assert.Equal("Dashboard", browser.Text("h1"));
        // The inline stylesheet applies: the Content-Security-Policy names it by its hash.
        Assert.Equal("rgba(29, 35, 48, 1)", browser.Find("header").GetCssValue("background-color"));
        browser.ClickAndLoad(browser.Find("header button")); // log out
        Assert.Equal("Log in", browser.Text("h1"));

        browser.LogIn(site.Uri, "alice", "wrong");
        Assert.Equal("Wrong user name or password.", browser.Text("#login-error"));
        browser.LogIn(site.Uri, "alice", "wrong again");
        browser.LogIn(site.Uri, "alice", "still wrong");
        Assert.Equal("Wrong user name or password.", browser.Text("#login-error"));
        // Locked: the right password no longer gets in, nor does another user from the same address.
        browser.LogIn(site.Uri, "alice", ConsoleSite.AlicePassword);
        Assert.Equal("Too many failed logins: try again later.", browser.Text("#login-error"));
        browser.LogIn(site.Uri, "bob", ConsoleSite.BobPassword);
        Assert.Equal("Too many failed logins: try again later.", browser.Text("#login-error"));
        browser.GoTo(new Uri(site.Uri, "/"));
        Assert.Equal("Log in", browser.Text("h1"));
        Assert.Contains(site.Gateway.Logs.Lines, l => l.Contains("console login failed user=alice client=127.0.0.1; user locked out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_message_is_found_by_the_id_in_the_log_and_shows_its_evidence_rule_by_rule()
    {
        await using var site = await ConsoleSite.StartAsync();
        Assert.Equal("554 5.7.1 No lotteries here", await site.SendAsync("mallory@evil.test", "bob@example.test", "From: mallory@evil.test\nSubject: You won the lottery\n\nclaim"));
        var line = await site.Gateway.Logs.WaitForAsync(l => l.Contains("by=rule:no-lottery", StringComparison.Ordinal));
        var id = TransactionId().Match(line).Groups[1].Value;
        await site.FlushTrackingAsync();

        // A bookmark to the search page leads through the login and back to it.
        browser.ForgetCookies(site.Uri);
        browser.GoTo(new Uri(site.Uri, "/messages"));
        Assert.Equal("Log in", browser.Text("h1"));
        browser.FillLogin("alice", ConsoleSite.AlicePassword);
        browser.WaitFor("#q").SendKeys($"[ref {id}]");
        browser.ClickAndLoad(browser.Find("#search"));
        browser.ClickAndLoad(browser.WaitFor($"#results a[href='/messages/{id}']"));

        Assert.Equal(id, browser.Text("#tx-id"));
        Assert.Equal("rejected", browser.Text("#outcome"));
        Assert.Equal("rule:no-lottery", browser.Text("#decided-by"));
        Assert.Equal("554 5.7.1 No lotteries here", browser.Text("#reply"));
        Assert.Equal("You won the lottery", browser.Text("#subject"));
        var evidence = browser.Find("#evidence").FindElements(By.CssSelector("tr")).Select(r => r.Text).ToList();
        Assert.Contains(evidence, r => r.Contains("rule:no-lottery", StringComparison.Ordinal) && r.Contains("reject", StringComparison.Ordinal));
        Assert.Contains("bob@example.test", browser.Text("#recipients"));
    }

    [Fact]
    public async Task A_quarantined_message_released_from_the_console_arrives_at_the_upstream_and_the_release_names_who_did_it()
    {
        await using var site = await ConsoleSite.StartAsync();
        Assert.Equal("250 2.0.0 Ok: held for review", await site.SendAsync("carol@sender.test", "dave@example.test", "From: carol@sender.test\nSubject: Your invoice\n\nPlease pay."));
        var held = await site.Probe.WaitForAsync(r => r.QuarantineId is not null);
        Assert.Empty(site.Upstream.Messages);

        browser.LogIn(site.Uri, "alice", ConsoleSite.AlicePassword, "/login?return=%2Fquarantine");
        browser.ClickAndLoad(browser.WaitFor($"#held a[href='/quarantine/{held.Id}']"));
        Assert.Equal(held.Id, browser.Text("#q-id"));
        Assert.StartsWith("rule:hold-invoices", browser.Text("#reason"));
        Assert.Equal("Please pay.", browser.Text("#text"));
        browser.ClickAndLoad(browser.Find("#release"));
        Assert.StartsWith("released: 250", browser.Text("#result"));

        var arrived = await site.Upstream.FirstMessage.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(("carol@sender.test", "dave@example.test"), (arrived.MailFrom, Assert.Single(arrived.RcptTo)));
        Assert.Contains("Subject: Your invoice", arrived.Text);
        Assert.Contains($"X-Gateway-Released: {held.Id}", arrived.Text);
        Assert.Contains(site.Gateway.Logs.Lines, l => l.Contains($"quarantine release id={held.Id} by=console:alice done=True", StringComparison.Ordinal));

        browser.GoTo(new Uri(site.Uri, "/quarantine"));
        Assert.DoesNotContain(held.Id, browser.Driver.FindElements(By.CssSelector("#held")).Select(e => e.Text).FirstOrDefault() ?? "");
        Assert.Contains($"{held.Id} release console:alice released", browser.Text("#audit"));
    }

    [GeneratedRegex(@"transaction id=(\S+)")]
    private static partial Regex TransactionId();
}
