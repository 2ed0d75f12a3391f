using System.Net;
using System.Text.Json;
using Gateway.Tests.Support;

namespace Gateway.Tests.Admin;

/// <summary>/health/live and /health/ready over loopback, with a real upstream and a real Redis going away.</summary>
public class HealthTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(AdminClient admin, string path)
    {
        using var response = await admin.GetAsync(path);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Ready_while_the_upstream_greets_and_not_ready_naming_it_once_it_is_gone()
    {
        var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("", upstream);
        await using var admin = await AdminClient.StartAsync(gateway);

        var (status, body) = await GetAsync(admin, "/health/live");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, body) = await GetAsync(admin, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("checks").GetProperty("listeners").GetProperty("ready").GetBoolean());
        Assert.True(body.GetProperty("checks").GetProperty("configuration").GetProperty("ready").GetBoolean());

        var hostPort = upstream.HostPort;
        await upstream.DisposeAsync();
        // The probe's answer is kept for a few seconds: a new gateway asks afresh.
        await using var gateway2 = await GatewayHost.StartAsync($"upstream:\n  hosts: [\"{hostPort}\"]\n  tls: none\n");
        await using var admin2 = await AdminClient.StartAsync(gateway2);
        (status, body) = await GetAsync(admin2, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("not ready", body.GetProperty("status").GetString());
        var notReady = Assert.Single(body.GetProperty("not_ready").EnumerateArray()).GetString();
        Assert.Equal($"upstream: {hostPort}: connection refused", notReady);
    }

    [Fact]
    public async Task Every_route_of_upstream_routes_is_probed_and_one_with_no_host_greeting_is_named_as_not_ready()
    {
        await using var upstream = new FakeUpstream();
        await using var partner = new FakeUpstream();
        var refused = ClosedPort();
        var alsoRefused = ClosedPort();
        await using var gateway = await GatewayHost.StartAsync($$"""
            relay: { domains: [example.test, partner.test, branch.test] }
            upstream:
              hosts: ["{{upstream.HostPort}}"]
              tls: none
              routes:
                - { name: partners, domains: [partner.test], hosts: ["{{refused}}", "{{partner.HostPort}}"] }
                - { name: branch, domains: [branch.test], hosts: ["{{alsoRefused}}"] }
            """);
        await using var admin = await AdminClient.StartAsync(gateway);

        var (status, body) = await GetAsync(admin, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var checks = body.GetProperty("checks");
        Assert.True(checks.GetProperty("upstream").GetProperty("ready").GetBoolean());
        // A route is ready when one of its hosts greets, as the default upstream is.
        Assert.Equal($"{partner.HostPort} greets", checks.GetProperty("upstream route partners").GetProperty("detail").GetString());
        var notReady = Assert.Single(body.GetProperty("not_ready").EnumerateArray()).GetString();
        Assert.Equal($"upstream route branch: {alsoRefused}: connection refused", notReady);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static string ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    [Fact]
    public async Task Not_ready_naming_redis_when_the_state_store_is_down()
    {
        using var redis = RedisServer.Start();
        await using var gateway = await GatewayHost.StartAsync($"state:\n  backend: redis\n  redis: {{ endpoint: \"{redis.Endpoint}\", timeout: 5s }}\n");
        await using var admin = await AdminClient.StartAsync(gateway);
        var (status, body) = await GetAsync(admin, "/health/ready");
        Assert.True(HttpStatusCode.OK == status, body.ToString());
        Assert.True(body.GetProperty("checks").GetProperty("state").GetProperty("ready").GetBoolean());

        redis.Stop();
        (status, body) = await GetAsync(admin, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var notReady = Assert.Single(body.GetProperty("not_ready").EnumerateArray()).GetString();
        Assert.StartsWith($"state: redis {redis.Endpoint}", notReady);
    }

    [Fact]
    public async Task An_admin_port_in_use_names_the_endpoint()
    {
        await using var gateway = await GatewayHost.StartAsync();
        await using var admin = await AdminClient.StartAsync(gateway);
        using var probe = await admin.GetAsync("/health/live");
        var taken = probe.RequestMessage!.RequestUri!.Port;
        var e = await Assert.ThrowsAsync<Gateway.Admin.AdminListenException>(() =>
            Gateway.Admin.AdminHost.StartAsync(new Gateway.Admin.AdminConfig([new IPEndPoint(IPAddress.Loopback, taken)]), gateway.Server, gateway.Logs.Factory));
        Assert.Equal($"cannot listen on 127.0.0.1:{taken} (admin): address already in use", e.Message);
    }
}
