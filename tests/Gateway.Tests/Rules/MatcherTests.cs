using System.Net;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Rules.Matchers;

namespace Gateway.Tests.Rules;

public class MatcherTests
{
    private static readonly GatewayConfig Config = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }", "t.yaml", Path.GetTempPath()).Config!;

    private static FilterContext Context(string helo = "mail.sender.test", string sender = "alice@sender.test")
    {
        var session = new SessionState("T", Config, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 1), new IPEndPoint(IPAddress.Loopback, 25)) { Helo = helo };
        session.BeginTransaction(new SmtpPath(sender.Split('@')[0], sender.Split('@')[1], false, false, false, false), new Dictionary<string, string?>());
        return new FilterContext(Phase.MailFrom, session);
    }

    private static IMatcher Helo(TextPattern p) => new TextMatcher("helo", Phase.Helo, TextMatcher.Helo, p);

    [Theory]
    [InlineData("*.sender.test", "mail.sender.test", true)]
    [InlineData("*.SENDER.test", "mail.sender.test", true)]
    [InlineData("mail?.sender.test", "mail.sender.test", false)]
    [InlineData("*.test", "mail.sender.test", true)]
    [InlineData("sender.test", "mail.sender.test", false)]
    [InlineData("mail.sender.(test)", "mail.sender.(test)", true)]
    public void Globs_match_whole_values_ignoring_case(string glob, string value, bool expected)
    {
        Assert.Null(TextPattern.Glob(glob, out var pattern));
        Assert.Equal(expected, pattern!.Match(value) is not null);
    }

    [Fact]
    public void Domains_and_lists_compare_the_address_domain()
    {
        Assert.NotNull(TextPattern.Domain("Sender.Test").Match("alice@sender.test"));
        Assert.Null(TextPattern.Domain("sender.test").Match("alice@evilsender.test"));
        var list = TextPattern.List("l", new HashSet<string> { "bob@other.test", "partner.test" });
        Assert.NotNull(list.Match("BOB@other.test"));
        Assert.NotNull(list.Match("anyone@partner.test"));
        Assert.Null(list.Match("bob@partner.test.evil"));
    }

    [Fact]
    public void Combinators_compose_and_report_their_evidence()
    {
        var yes = Helo(TextPattern.Exact("mail.sender.test"));
        var no = Helo(TextPattern.Exact("other"));
        var sender = new TextMatcher("sender", Phase.MailFrom, TextMatcher.Sender, TextPattern.Domain("sender.test"));
        var context = Context();

        var all = new AllMatcher([yes, sender]).Match(context);
        Assert.True(all.Matched);
        Assert.Equal("helo 'mail.sender.test' matches exact mail.sender.test; sender 'alice@sender.test' matches domain sender.test", all.Evidence);
        Assert.False(new AllMatcher([yes, no]).Match(context).Matched);
        Assert.True(new AnyMatcher([no, yes]).Match(context).Matched);
        Assert.False(new AnyMatcher([no]).Match(context).Matched);
        Assert.True(new NotMatcher(no).Match(context).Matched);
        Assert.False(new NotMatcher(yes).Match(context).Matched);
        Assert.Equal(Phase.MailFrom, new AnyMatcher([yes, sender]).Needs);
    }
}
