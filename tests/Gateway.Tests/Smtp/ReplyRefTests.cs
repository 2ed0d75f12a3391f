using System.Text;

namespace Gateway.Tests.Smtp;

public class ReplyRefTests
{
    [Fact]
    public void A_refusal_names_its_transaction_after_the_text()
    {
        var reply = new Reply(550, "5.7.1", "Executable attachments are not accepted").WithRef("51C6D126SHL0.1");
        Assert.Equal("550 5.7.1 Executable attachments are not accepted [ref 51C6D126SHL0.1]", reply.ToString());
        Assert.Equal("51C6D126SHL0.1", reply.Ref);
        Assert.Same(reply, reply.WithRef("OTHER.2")); // named once
    }

    [Theory]
    [InlineData(250, false)]
    [InlineData(354, false)]
    [InlineData(421, true)]
    [InlineData(451, true)]
    [InlineData(452, true)]
    [InlineData(500, false)]
    [InlineData(501, false)]
    [InlineData(502, false)]
    [InlineData(503, false)]
    [InlineData(504, false)]
    [InlineData(550, true)]
    [InlineData(552, true)]
    [InlineData(553, true)]
    [InlineData(554, true)]
    [InlineData(555, false)]
    public void Only_refusals_and_deferrals_are_named_not_syntax_errors(int code, bool named) =>
        Assert.Equal(named, new Reply(code, "", "text").WithRef("ID").Ref is not null);

    [Theory]
    [InlineData("x")]
    [InlineData("é")]
    [InlineData("😀")]
    public void A_long_text_is_cut_so_that_the_line_stays_within_512_octets(string c)
    {
        var text = string.Concat(Enumerable.Repeat(c, 600));
        var reply = new Reply(554, "5.7.1", text).WithRef("51C6D126SHL0.12");
        var line = Encoding.UTF8.GetByteCount(reply + "\r\n");
        Assert.InRange(line, 500, Reply.MaxLine);
        Assert.EndsWith(" [ref 51C6D126SHL0.12]", reply.Text);
        Assert.True(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(reply.Text)) == reply.Text, "no half character");
    }
}
