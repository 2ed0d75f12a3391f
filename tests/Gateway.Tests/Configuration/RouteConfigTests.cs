using Gateway.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.Configuration;

/// <summary>upstream.routes as <c>gateway check</c> sees it: every mistake with its position, and the likely ones as warnings.</summary>
public class RouteConfigTests
{
    private static ConfigResult Load(string routes, string relay = "[a.test, b.test, c.test]") =>
        ConfigLoader.Load($"relay:\n  domains: {relay}\nupstream:\n  hosts: [\"10.0.0.1:25\"]\n  routes:\n{routes}", "t.yaml", Path.GetTempPath());

    [Fact]
    public void A_domain_in_two_routes_is_refused_with_both_positions()
    {
        var result = Load("""
                - domains: [b.test]
                  hosts: ["10.0.0.2:25"]
                - domains: [c.test, B.Test]
                  hosts: ["10.0.0.3:25"]
            """);
        var error = Assert.Single(result.Errors);
        Assert.Equal((8L, 25L), (error.Line, error.Column));
        Assert.Equal("domain b.test is in two routes: upstream.routes[0] (line 6, column 17) and upstream.routes[1]: give each domain one route", error.Message);
    }

    [Fact]
    public void The_same_domain_as_unicode_and_as_idna_is_one_domain()
    {
        var result = Load("""
                - { domains: [bücher.test], hosts: ["10.0.0.2:25"] }
                - { domains: [xn--bcher-kva.test], hosts: ["10.0.0.3:25"] }
            """, "[xn--bcher-kva.test]");
        Assert.Contains("domain xn--bcher-kva.test is in two routes", Assert.Single(result.Errors).Message);
    }

    [Theory]
    [InlineData("- { domains: [b.test] }", "'upstream.routes[0]' needs 'hosts' (the MTA for its domains) or 'directory' (write their mail to a folder)")]
    [InlineData("- { domains: [b.test], hosts: [\"h.test:25\"], directory: out }", "'upstream.routes[0]' takes either 'hosts' or 'directory', not both")]
    [InlineData("- { hosts: [\"h.test:25\"] }", "'upstream.routes[0]' needs 'domains': the recipient domains it takes")]
    [InlineData("- { domains: [b.test], hosts: [\"h.test\"] }", "'upstream.routes[0].hosts' entry 'h.test' must be host:port, such as 10.0.0.26:25 or mail.example.test:25")]
    [InlineData("- { domains: [\"b_c.test\"], hosts: [\"h.test:25\"] }", "'upstream.routes[0].domains' entry 'b_c.test' is not a domain name (example.com, or .example.com for its subdomains)")]
    [InlineData("- { domains: [.test], hosts: [\"h.test:25\"] }", "'upstream.routes[0].domains' entry '.test' is not a domain name (example.com, or .example.com for its subdomains)")]
    [InlineData("- { domains: [b.test], hosts: [\"h.test:25\"], recipients: realtime }", "unknown key 'upstream.routes[0].recipients' (known here: directory, domains, hosts, idle_timeout, name, pool_size, timeout, tls, verify_certificate)")]
    [InlineData("- { domains: [b.test], hosts: [\"h.test:25\"], tls: maybe }", "'upstream.routes[0].tls' must be one of none | opportunistic | required, not 'maybe'")]
    [InlineData("- { domains: [b.test], hosts: [\"h.test:25\"], name: default }", "'upstream.routes[0]': there is already a route named 'default' (the default route is 'default'): give it another 'name'")]
    [InlineData("{ domains: [b.test] }", "'upstream.routes' must be a list of { domains, hosts (or directory), tls, timeout, ... }")]
    public void A_route_mistake_is_refused(string route, string message)
    {
        var result = Load("    " + route + "\n");
        Assert.Contains(result.Errors, e => e.Message == message);
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Two_routes_with_one_name_are_refused()
    {
        var result = Load("""
                - { name: internal, domains: [b.test], hosts: ["10.0.0.2:25"] }
                - { name: internal, domains: [c.test], hosts: ["10.0.0.3:25"] }
            """);
        Assert.Contains("there is already a route named 'internal'", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void A_route_domain_outside_relay_domains_is_a_warning()
    {
        var result = Load("""
                - { domains: [b.test, partner.test, .sub.test, .a.test], hosts: ["10.0.0.2:25"] }
            """, "[a.test, b.test, x.sub.test]");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal([
            "t.yaml:6:27: warning: 'upstream.routes[0]': partner.test is not in relay.domains: its mail is refused by relay control unless it comes from relay.networks",
            "t.yaml:6:52: warning: 'upstream.routes[0]': no subdomain of a.test is in relay.domains (which match exactly): its mail is refused by relay control unless it comes from relay.networks",
        ], result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Check_prints_the_routes_and_the_warnings()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("gateway.yaml", """
            relay: { domains: [a.test, b.test] }
            upstream:
              hosts: ["10.0.0.1:25"]
              routes:
                - { name: partners, domains: [b.test, c.test], hosts: ["10.0.0.2:25"], tls: required }
                - { domains: [d.test], directory: d }
            """);
        var (exit, output, errors) = CliRunner.Invoke("check", "--config", path);
        Assert.True(exit == 0, errors);
        Assert.Contains("  route partners: b.test, c.test -> 10.0.0.2:25 (tls required)", output);
        Assert.Contains($"  route d.test: d.test -> directory {Path.Combine(dir.Path, "d")}", output);
        Assert.Contains("gateway.yaml:5:43: warning: 'upstream.routes[0]': c.test is not in relay.domains", errors);
        Assert.Contains("warning: 'upstream.routes[1]': d.test is not in relay.domains", errors);
    }
}
