using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public class UpstreamReplyTests
{
    [Fact]
    public void Keeps_code_enhanced_code_and_text()
    {
        var reply = UpstreamReply.From(550, "5.1.1 <bob@example.test>: Recipient address rejected");
        Assert.Equal("550 5.1.1 <bob@example.test>: Recipient address rejected", reply.ToString());
    }

    [Fact]
    public void Cleans_line_breaks_and_control_characters_into_one_line()
    {
        var reply = UpstreamReply.From(451, "4.3.0 try\r\n250 2.0.0 fake\0 later\u00e9");
        Assert.Equal("451 4.3.0 try 250 2.0.0 fake later", reply.ToString());
        Assert.DoesNotContain('\n', reply.ToString());
    }

    [Fact]
    public void Supplies_an_enhanced_code_of_the_right_class()
    {
        Assert.Equal("554 5.0.0 no", UpstreamReply.From(554, "no").ToString());
        Assert.Equal("451 4.0.0 mismatched", UpstreamReply.From(451, "2.0.0 mismatched").ToString());
        Assert.Equal(400, UpstreamReply.From(451, new string('x', 5000)).Text.Length);
    }
}
