using Gateway.Configuration;
using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public class RouteTableTests
{
    private static RouteTable Table(string yaml)
    {
        var result = ConfigLoader.Load($"relay:\n  domains: [example.test]\nupstream:\n  hosts: [\"10.0.0.1:25\"]\n  routes:\n{yaml}", "t.yaml", Path.GetTempPath());
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Config!.Upstream.Routes;
    }

    private static SmtpPath To(string address)
    {
        Assert.Null(SmtpPath.TryParse($"<{address}>", allowNull: false, allowBarePostmaster: true, out var path, out _));
        return path;
    }

    private static readonly RouteTable Routes = Table("""
            - { name: sales, domains: [Sales.Example, bücher.example], hosts: ["10.0.0.2:25"] }
            - { domains: [.corp.example], hosts: ["10.0.0.3:25"] }
            - { domains: [eu.corp.example, .eu.corp.example], hosts: ["10.0.0.4:25"] }
        """);

    [Theory]
    [InlineData("a@sales.example", "sales")]
    [InlineData("a@SALES.EXAMPLE", "sales")]
    [InlineData("a@xn--bcher-kva.example", "sales")] // the IDNA form of a Unicode domain in the configuration
    [InlineData("a@bücher.example", "sales")] // SMTPUTF8: compared in its ASCII form
    [InlineData("a@sub.sales.example", "default")] // a plain domain is that domain only
    [InlineData("a@hq.corp.example", ".corp.example")] // a leading dot: its subdomains (named after the first domain)
    [InlineData("a@x.hq.corp.example", ".corp.example")]
    [InlineData("a@corp.example", "default")] // ... but not the parent itself, as Postfix's transport_maps
    [InlineData("a@eu.corp.example", "eu.corp.example")] // an exact domain over a parent's pattern
    [InlineData("a@de.eu.corp.example", "eu.corp.example")] // the nearest parent wins
    [InlineData("a@example.test", "default")]
    [InlineData("a@other.test", "default")]
    public void A_recipient_takes_the_route_of_its_domain(string address, string route) =>
        Assert.Equal(route, Routes.NameFor(To(address)));

    [Fact]
    public void A_route_takes_the_upstream_sections_settings_it_does_not_give()
    {
        var result = ConfigLoader.Load("""
            relay: { domains: [a.test, b.test] }
            upstream:
              hosts: ["10.0.0.1:25"]
              tls: required
              timeout: 20s
              pool_size: 3
              routes:
                - { domains: [b.test], hosts: ["10.0.0.2:25", "10.0.0.3:2525"], timeout: 5s }
                - { domains: [c.test], directory: out, tls: none }
            """, "t.yaml", "/srv");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var routes = result.Config!.Upstream.Routes.Routes;
        var b = routes[0].Upstream;
        Assert.Equal(["10.0.0.2:25", "10.0.0.3:2525"], b.Hosts.Select(h => h.ToString()));
        Assert.Equal((UpstreamTls.Required, TimeSpan.FromSeconds(5), 3), (b.Tls, b.Timeout, b.PoolSize));
        Assert.Equal(("c.test", Path.Combine("/srv", "out"), UpstreamTls.None), (routes[1].Name, routes[1].Upstream.Directory, routes[1].Upstream.Tls));
        Assert.Equal("t.yaml:8:7", routes[0].Position);
    }

    [Fact]
    public void Without_routes_every_recipient_takes_the_default_route()
    {
        Assert.True(RouteTable.Empty.IsEmpty);
        Assert.Equal(RouteTable.DefaultName, RouteTable.Empty.NameFor(To("a@sales.example")));
        Assert.Null(Routes.Find(null));
    }

    [Fact]
    public void The_separate_transaction_reply_is_a_452_4_5_3_naming_the_domain() =>
        Assert.Equal("452 4.5.3 Recipients of b.test must be sent in a separate transaction", RouteTable.SeparateTransaction(To("x@b.test")).ToString());
}
