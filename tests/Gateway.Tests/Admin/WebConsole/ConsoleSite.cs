using System.Net;
using System.Text.RegularExpressions;
using Gateway.Admin.WebConsole;
using Gateway.Tests.Support;

namespace Gateway.Tests.Admin.WebConsole;

/// <summary>
/// A real gateway with the web console on (users alice and bob), rules that refuse and quarantine, a directory
/// quarantine, a SQLite tracking store, and a FakeUpstream; plus HTTP clients that log in as a browser would.
/// </summary>
public sealed partial class ConsoleSite : IAsyncDisposable
{
    public const string AlicePassword = "correct horse battery staple";
    public const string BobPassword = "Tr0ub4dor&3 is worse";

    /// <summary>Made once per run, with the fewest iterations the configuration takes (the tests' logins stay fast).</summary>
    private static readonly Lazy<(string Alice, string Bob)> Hashes = new(() =>
        (PasswordHash.Create(AlicePassword, PasswordHash.MinIterations).ToString(), PasswordHash.Create(BobPassword, PasswordHash.MinIterations).ToString()));

    public const string Rules = """
        rules:
          - id: hold-invoices
            description: Invoices are held for review
            match: { subject: { regex: invoice } }
            action: quarantine
          - id: no-lottery
            description: Lottery mail is refused
            match: { subject: { regex: lottery } }
            action: reject
            reply: "554 5.7.1 No lotteries here"
          - id: watch-crypto
            description: Would refuse crypto offers
            mode: monitor
            match: { subject: { regex: crypto } }
            action: reject
        """;

    private ConsoleSite(GatewayHost gateway, FakeUpstream upstream, RecordProbe probe)
    {
        Gateway = gateway;
        Upstream = upstream;
        Probe = probe;
    }

    public GatewayHost Gateway { get; }

    public FakeUpstream Upstream { get; }

    public RecordProbe Probe { get; }

    public Uri Uri => Gateway.AdminUri;

    /// <param name="extra">More top-level YAML (a <c>state</c> section, say).</param>
    public static async Task<ConsoleSite> StartAsync(string adminExtra = "", bool tracking = true, bool users = true, Action<string>? prepare = null, string extra = "")
    {
        var upstream = new FakeUpstream();
        var (alice, bob) = Hashes.Value;
        var admin = "admin:\n  listen: [\"127.0.0.1:0\"]\n" + (users ? $"  users:\n    - {{ name: alice, password_hash: \"{alice}\" }}\n    - {{ name: bob, password_hash: \"{bob}\" }}\n" : "") + adminExtra;
        var gateway = await GatewayHost.StartAsync(
            $"rules:\n  files: [\"r.yaml\"]\nquarantine:\n  directory: quarantine\n{(tracking ? "tracking:\n  path: tracking.db\n" : "")}{admin}{extra}", upstream,
            prepareDirectory: dir =>
            {
                File.WriteAllText(Path.Combine(dir, "r.yaml"), Rules);
                prepare?.Invoke(dir);
            });
        var probe = new RecordProbe();
        gateway.Server.Transactions.Add(probe);
        return new ConsoleSite(gateway, upstream, probe);
    }

    /// <summary>Sends one message over SMTP; returns the reply to the end of DATA.</summary>
    public async Task<string> SendAsync(string from, string to, string message)
    {
        var (c, _) = await RawSmtpClient.OpenAsync(Gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync($"MAIL FROM:<{from}>"));
            Assert.StartsWith("250", await c.CommandAsync($"RCPT TO:<{to}>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            var reply = await c.CommandAsync(message.ReplaceLineEndings("\r\n") + "\r\n.");
            await c.CommandAsync("QUIT");
            return reply;
        }
    }

    /// <summary>Waits until the tracking store has what the gateway recorded so far.</summary>
    public Task FlushTrackingAsync() => Gateway.Server.Tracking.Writer!.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>An HTTP client with its own cookies that does not follow redirects.</summary>
    public HttpClient Client(out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        return new HttpClient(handler) { BaseAddress = Uri, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>A client logged in as <paramref name="user"/>.</summary>
    public async Task<HttpClient> LoggedInAsync(string user = "alice", string password = AlicePassword)
    {
        var client = Client(out _);
        using var response = await LogInAsync(client, user, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public static async Task<HttpResponseMessage> LogInAsync(HttpClient client, string user, string password)
    {
        var token = await TokenAsync(client, "/login");
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = token, ["user"] = user, ["password"] = password }));
    }

    /// <summary>The antiforgery token of the first form on <paramref name="path"/> (the cookie half lands in the client's cookies).</summary>
    public static async Task<string> TokenAsync(HttpClient client, string path)
    {
        var page = await client.GetStringAsync(path);
        return Token().Match(page) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no token on " + path);
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
