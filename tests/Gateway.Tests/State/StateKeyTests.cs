using System.Net;
using Gateway.State;

namespace Gateway.Tests.State;

public sealed class StateKeyTests
{
    [Theory]
    [InlineData("192.0.2.77", 24, "192.0.2.0/24")]
    [InlineData("192.0.2.77", 32, "192.0.2.77/32")]
    [InlineData("198.51.100.200", 20, "198.51.96.0/20")]
    [InlineData("::ffff:192.0.2.77", 24, "192.0.2.0/24")]
    [InlineData("2001:db8:1:2:3:4:5:6", 24, "2001:db8:1:2::/64")]
    public void The_client_network_clears_the_host_bits(string address, int v4, string expected) =>
        Assert.Equal(expected, StateKey.Network(IPAddress.Parse(address), v4, 64));

    [Fact]
    public void Parts_that_contain_the_separator_cannot_be_confused()
    {
        var a = StateKey.Join("gl", ["net", "a|b@x", "c@y"]);
        var b = StateKey.Join("gl", ["net", "a", "b@x|c@y"]);

        Assert.NotEqual(a, b);
        Assert.Equal("gl:net|a%7Cb@x|c@y", a);
    }
}
