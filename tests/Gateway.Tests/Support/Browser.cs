using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Gateway.Tests.Support;

/// <summary>
/// Debian's Chromium, headless, driven by Debian's chromedriver through Selenium (scripts/test installs both). The
/// driver's path is given explicitly, so Selenium Manager never runs and nothing is downloaded; a fresh profile
/// directory per browser. One browser per test collection (starting one costs a second or two).
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private readonly TempDirectory _profile = new();

    public Browser()
    {
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true"); // belt and braces: Selenium Manager, if it ever ran, must not fetch
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
            throw new InvalidOperationException($"{ChromiumPath} and {DriverPath} are needed: scripts/test installs Debian's chromium and chromium-driver");
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={_profile.Path}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(60);
    }

    public IWebDriver Driver { get; }

    public void GoTo(Uri uri) => Driver.Navigate().GoToUrl(uri);

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    /// <summary>Waits (up to 30 s, only on failure) for an element to be there.</summary>
    public IWebElement WaitFor(string css) =>
        new WebDriverWait(Driver, TimeSpan.FromSeconds(30)).Until(d => d.FindElements(By.CssSelector(css)).FirstOrDefault());

    /// <summary>Fills in the login form on the page and sends it.</summary>
    public void LogIn(Uri site, string user, string password, string path = "/login")
    {
        GoTo(new Uri(site, path));
        Driver.Manage().Cookies.DeleteAllCookies();
        GoTo(new Uri(site, path));
        FillLogin(user, password);
    }

    /// <summary>Fills in the login form on the page now shown and sends it.</summary>
    public void FillLogin(string user, string password)
    {
        WaitFor("#user").SendKeys(user);
        Find("#password").SendKeys(password);
        ClickAndLoad(Find("#login"));
    }

    /// <summary>Clicks what leads to another page and waits until that page has replaced this one.</summary>
    public void ClickAndLoad(IWebElement element)
    {
        var old = Driver.FindElement(By.TagName("html"));
        element.Click();
        new WebDriverWait(Driver, TimeSpan.FromSeconds(30)).Until(d =>
        {
            try
            {
                _ = old.Enabled;
                return false;
            }
            catch (StaleElementReferenceException)
            {
                return true;
            }
            catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal))
            {
                // Chromium's other way of saying the element's page is gone, when the new page replaced it mid-call.
                return true;
            }
        });
    }

    /// <summary>Forgets this site's cookies (a session or token of an earlier test's gateway).</summary>
    public void ForgetCookies(Uri site)
    {
        GoTo(new Uri(site, "/health/live"));
        Driver.Manage().Cookies.DeleteAllCookies();
    }

    public string Text(string css) => WaitFor(css).Text;

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            _profile.Dispose();
        }
    }
}

[CollectionDefinition("browser")]
public sealed class BrowserCollection : ICollectionFixture<Browser>;
