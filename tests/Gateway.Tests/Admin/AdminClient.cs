using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Admin;
using Gateway.Tests.Support;

namespace Gateway.Tests.Admin;

/// <summary>An admin listener on a loopback port chosen by the OS beside a test gateway, and an HTTP client for it.</summary>
public sealed partial class AdminClient : IAsyncDisposable
{
    private readonly AdminHost _host;
    private readonly HttpClient _http;

    private AdminClient(AdminHost host)
    {
        _host = host;
        _http = new HttpClient { BaseAddress = new Uri($"http://{host.Endpoints[0]}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static async Task<AdminClient> StartAsync(GatewayHost gateway) =>
        new(await AdminHost.StartAsync(new AdminConfig([new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)]), gateway.Server, gateway.Logs.Factory));

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path);

    /// <summary>Every sample of a scrape, "name{labels}" → value; fails on a line that is not the Prometheus text format.</summary>
    public async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var response = await _http.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        var samples = new Dictionary<string, double>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
                continue;
            var m = Sample().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            samples[m.Groups[1].Value] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\]|\\.)*"",?)*\})?) (-?[0-9.eE+\-]+|NaN|[+-]Inf)$")]
    private static partial Regex Sample();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }
}
