using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Pipeline;

/// <summary>
/// The filter types gateway.yaml may name, each with the code that reads its options into a filter. The loader,
/// the validator and the pipeline builder all go through this one list.
/// </summary>
public static class FilterRegistry
{
    private delegate IFilter? Factory(string name, YamlMappingReader options, string baseDirectory);

    private static readonly Dictionary<string, Factory> Factories = new(StringComparer.Ordinal)
    {
        ["client_list"] = ClientListFilter.Create,
        ["max_received"] = MaxReceivedFilter.Create,
        ["rules"] = RulesPlacement.Create,
        ["spf"] = Filters.Authentication.SpfFilter.Create,
        ["dkim"] = Filters.Authentication.DkimFilter.Create,
        ["dmarc"] = Filters.Authentication.DmarcFilter.Create,
        ["arc"] = Filters.Authentication.ArcFilter.Create,
        ["dnsbl"] = Filters.Abuse.DnsblFilter.Create,
        ["helo"] = Filters.Abuse.HeloFilter.Create,
        ["rdns"] = Filters.Abuse.ReverseDnsFilter.Create,
        ["rate_limit"] = Filters.Abuse.RateLimitFilter.Create,
        ["greylist"] = Filters.Abuse.GreylistFilter.Create,
        ["antivirus"] = Detection.Antivirus.AntivirusFilter.Create,
        ["lookalike"] = Filters.Content.LookalikeFilter.Create,
        ["html_smuggling"] = Filters.Content.HtmlSmugglingFilter.Create,
        ["bayes"] = Detection.Bayes.BayesFilter.Create,
    };

    public static IReadOnlyCollection<string> Types => Factories.Keys;

    /// <summary>Builds a filter from its options; errors go to the reader's error list and null comes back.</summary>
    internal static IFilter? Create(string type, string name, YamlMappingReader options, string baseDirectory) =>
        Factories.TryGetValue(type, out var factory) ? factory(name, options, baseDirectory) : null;

    public static bool Exists(string type) => Factories.ContainsKey(type);
}
