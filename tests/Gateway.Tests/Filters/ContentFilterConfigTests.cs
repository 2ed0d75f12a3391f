using Gateway.Configuration;
using Gateway.Filters.Content;

namespace Gateway.Tests.Filters;

public class ContentFilterConfigTests
{
    private static ConfigResult Load(string pipeline) => ConfigLoader.Load(
        "relay:\n  domains: [example.test]\nupstream:\n  hosts: [\"127.0.0.1:2526\"]\npipeline:\n" + pipeline, "t.yaml", Path.GetTempPath());

    [Fact]
    public void Brands_and_scores_are_read()
    {
        var result = Load("  data:\n    - { type: lookalike, brands: [PayPal.com, bücher.example], scores: { LOOKALIKE_LINK: 2.5 } }\n    - { type: html_smuggling, scores: { HTML_SMUGGLING: 10 } }\n");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var filter = Assert.IsType<LookalikeFilter>(result.Config!.Pipeline.Phases[Gateway.Pipeline.Phase.Data][0].Filter);
        Assert.Equal(["paypal.com", "xn--bcher-kva.example"], filter.Brands);
    }

    [Fact]
    public void A_bad_brand_an_unknown_score_and_a_wrong_phase_are_errors_with_their_position()
    {
        var result = Load("  mail_from:\n    - { type: html_smuggling }\n  data:\n    - { type: lookalike, brands: [com, \"not a domain\"], scores: { LOOKALIKE_BODY: 1 } }\n");
        var errors = string.Join("\n", result.Errors);
        Assert.False(result.IsValid);
        Assert.Contains("'brands': 'com' is not a domain with a registrable name", errors);
        Assert.Contains("'brands': 'not a domain' is not a domain", errors);
        Assert.Contains("LOOKALIKE_BODY", errors);
        Assert.Contains("filter type 'html_smuggling' cannot run at mail_from", errors);
        Assert.Contains("t.yaml:9:", errors);
    }
}
