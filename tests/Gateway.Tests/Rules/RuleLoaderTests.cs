using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Rules;
using Gateway.Tests.Support;

namespace Gateway.Tests.Rules;

public class RuleLoaderTests
{
    private static (RuleSet Set, List<ConfigError> Errors) Load(params (string Name, string Text)[] files)
    {
        var dir = new TempDirectory();
        var paths = files.Select(f => dir.Write(f.Name, f.Text)).ToList();
        var errors = new List<ConfigError>();
        return (RuleLoader.Load(paths, errors), errors);
    }

    [Fact]
    public void Loads_rules_and_puts_each_at_the_phase_its_data_exists()
    {
        var (set, errors) = Load(("a.yaml", """
            rules:
              - id: bad-helo
                match: { helo: { glob: "*.example.test" } }
                action: reject
              - id: big
                description: large messages score
                match: { size: { min: 1MB } }
                score: 2.5
              - id: partner
                match: { any: [ { client_ip: ["192.0.2.0/24"] }, { mail_from: { domain: partner.test } } ] }
                action: accept
            """));
        Assert.Empty(errors);
        Assert.Equal(["bad-helo", "big", "partner"], set.Rules.Select(r => r.Id));
        Assert.Equal([Phase.Helo, Phase.Data, Phase.MailFrom], set.Rules.Select(r => r.Phase));
        Assert.Equal(2.5, set.Rules[1].Score);
        Assert.Matches("^[0-9a-f]{12}$", set.Hash);
    }

    [Fact]
    public void Reports_every_problem_with_its_position()
    {
        var (_, errors) = Load(("a.yaml", """
            rules:
              - id: one
                match: { subject: { regex: "([a-z" } }
                action: reject
              - id: two
                match: { helo: { exact: x } }
                phase: connect
                action: reject
              - id: three
                match: { colour: red }
                action: reject
              - id: four
                match: { mail_from: { list: missing.txt } }
                action: reject
              - id: five
                match: { helo: x }
                action: reject
                reply: "451 4.7.1 not a permanent reply"
              - id: six
                match: { helo: x }
              - id: seven
                match: { helo: x }
                action: reject
                severity: high
              - id: eight
                match: { helo: x }
                action: reject
            """), ("b.yaml", """
            rules:
              - id: eight
                match: { helo: y }
                action: reject
            """));
        var text = errors.Select(e => $"{Path.GetFileName(e.File)}:{e.Line}: {e.Message}").ToList();
        Assert.Contains(text, e => e.StartsWith("a.yaml:3: 'rules[0].match.subject.regex':", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:7: rule 'two' runs at connect, but its match needs data from helo", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:10: unknown matcher 'colour'", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:13: 'rules[3].match.mail_from.list': cannot read list", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:18: 'reply' must be \"5xx 5.x.x text\" for action reject", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:19: rule 'six' does nothing", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("a.yaml:24: unknown key 'rules[6].severity'", StringComparison.Ordinal));
        Assert.Contains(text, e => e.StartsWith("b.yaml:2: duplicate rule id 'eight' (first defined in", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("550 5.7.1 Go away", 550, "5.7.1", "Go away")]
    [InlineData("451 4.7.1 Later\r\nplease", 451, "4.7.1", "Later please")]
    public void Parses_replies(string text, int code, string enhanced, string message)
    {
        var reply = RuleLoader.ParseReply(text);
        Assert.Equal(new Gateway.Core.Reply(code, enhanced, message), reply);
    }

    [Theory]
    [InlineData("250 2.0.0 fine")]
    [InlineData("550 4.7.1 wrong class")]
    [InlineData("550 5.7.1")]
    [InlineData("five hundred")]
    public void Refuses_bad_replies(string text) => Assert.Null(RuleLoader.ParseReply(text));
}
