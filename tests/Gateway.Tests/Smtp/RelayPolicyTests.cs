using System.Net;
using Gateway.Configuration;

namespace Gateway.Tests.Smtp;

public class RelayPolicyTests
{
    private static readonly RelayConfig Relay = new(["example.test"], [IPNetwork.Parse("192.0.2.0/24")]);
    private static readonly IPAddress Outside = IPAddress.Parse("198.51.100.7");

    private static Reply? Check(string address, IPAddress? client = null)
    {
        Assert.Null(SmtpPath.TryParse(address, false, true, out var path, out _));
        return RelayPolicy.Check(path, client ?? Outside, Relay);
    }

    [Theory]
    [InlineData("<user@example.test>")]
    [InlineData("<USER@EXAMPLE.TEST>")]
    [InlineData("<postmaster>")]
    public void Accepts_local_domains_case_insensitively(string address) => Assert.Null(Check(address));

    [Theory]
    [InlineData("<user@other.test>")]
    [InlineData("<user@notexample.test>")]
    [InlineData("<user@example.test.evil.test>")]
    [InlineData("<user@sub.example.test>")]
    public void Refuses_other_domains_including_look_alikes(string address) =>
        Assert.Equal(Reply.RelayDenied, Check(address));

    [Theory]
    [InlineData("<user%other.test@example.test>")]
    [InlineData("<@example.test:user@other.test>")]
    [InlineData("<@example.test,@relay.test:user@example.test>")]
    [InlineData("<other.test!user@example.test>")]
    [InlineData("<\"user@other.test\"@example.test>")]
    [InlineData("<\"user%other.test\"@example.test>")]
    [InlineData("<\"other!user\"@example.test>")]
    [InlineData("<user@[192.0.2.1]>")]
    [InlineData("<user@example.test.>")]
    public void Refuses_routing_tricks_with_554_5_7_1(string address)
    {
        var reply = Check(address);
        Assert.NotNull(reply);
        Assert.Equal(554, reply.Code);
        Assert.Equal("5.7.1", reply.Enhanced);
    }

    [Fact]
    public void Relay_networks_may_send_anywhere_but_never_with_tricks()
    {
        var inside = IPAddress.Parse("192.0.2.10");
        Assert.Null(Check("<user@other.test>", inside));
        Assert.Null(Check("<user@other.test>", IPAddress.Parse("192.0.2.10").MapToIPv6()));
        Assert.NotNull(Check("<user%x.test@other.test>", inside));
    }
}
