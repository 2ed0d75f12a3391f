using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Rules;
using Gateway.Tests.Support;

namespace Gateway.Tests.Rules;

public class DetectionConditionTests
{
    private static (RuleSet Set, List<ConfigError> Errors) Load(string text)
    {
        using var dir = new TempDirectory();
        var errors = new List<ConfigError>();
        return (RuleLoader.Load([dir.Write("r.yaml", text)], errors), errors);
    }

    [Fact]
    public void Lookalike_and_html_smuggling_conditions_run_at_data()
    {
        var (set, errors) = Load("""
            rules:
              - { id: a, match: { lookalike: true }, score: 1 }
              - { id: b, match: { lookalike: [from, reply_to] }, score: 1 }
              - { id: c, match: { lookalike: link }, score: 1 }
              - { id: d, match: { html_smuggling: true }, action: reject }
            """);
        Assert.Empty(errors);
        Assert.All(set.Rules, r => Assert.Equal(Phase.Data, r.Phase));
    }

    [Fact]
    public void Unknown_places_and_values_are_errors_with_their_position()
    {
        var (_, errors) = Load("""
            rules:
              - { id: a, match: { lookalike: [from, body] }, score: 1 }
              - { id: b, match: { html_smuggling: yes }, score: 1 }
            """);
        var text = string.Join("\n", errors);
        Assert.Contains("r.yaml:2:", text);
        Assert.Contains("takes true or places among from, reply_to, link", text);
        Assert.Contains("r.yaml:3:", text);
        Assert.Contains("takes only 'true'", text);
    }
}
