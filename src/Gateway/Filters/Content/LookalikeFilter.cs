using Gateway.Authentication.Dmarc;
using Gateway.Configuration;
using Gateway.Detection;
using Gateway.Pipeline;
using MimeKit;

namespace Gateway.Filters.Content;

/// <summary>
/// Look-alikes of the protected domains (relay.domains and the filter's <c>brands</c>) in the From address, the
/// Reply-To address and the message's links: <c>LOOKALIKE_FROM</c>, <c>LOOKALIKE_REPLYTO</c> and <c>LOOKALIKE_LINK</c>,
/// each with the look-alike, the domain it imitates and how as evidence. It scores and refuses nothing by itself:
/// the shipped rules (rules/lookalike.yaml) decide.
/// </summary>
public sealed class LookalikeFilter(string name, IReadOnlyList<string> brands, IReadOnlyDictionary<string, double> scores) : IFilter
{
    public const string From = "LOOKALIKE_FROM";
    public const string ReplyTo = "LOOKALIKE_REPLYTO";
    public const string Link = "LOOKALIKE_LINK";

    /// <summary>Links checked per message: the view holds at most 1,000; hosts repeat.</summary>
    private const int MaxLinkHosts = 200;

    /// <summary>Addresses checked per header kind: a header listing thousands is hostile, and its first ones show it.</summary>
    private const int MaxAddresses = 100;

    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    public static readonly IReadOnlyDictionary<string, double> DefaultScores = new Dictionary<string, double>
    {
        [From] = 0, [ReplyTo] = 0, [Link] = 0,
    };

    // The detector depends on relay.domains, which a reload may change: rebuilt when the list is another object.
    // One reference, swapped whole, so that sessions on other threads never see a list with another list's detector.
    private sealed record Built(IReadOnlyList<string> Domains, LookalikeDetector Detector);

    private Built? _detector;

    public IReadOnlySet<Phase> Phases => DataOnly;

    public IReadOnlyList<string> Brands => brands;

    public ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        var detector = Detector(context.Session.Config.Relay.Domains);
        var symbols = new List<Symbol>();
        if (context.Headers is { } headers)
        {
            if (FirstInAddresses(detector, headers, HeaderId.From) is { } from)
                symbols.Add(new Symbol(From, scores[From], $"From {from}"));
            if (FirstInAddresses(detector, headers, HeaderId.ReplyTo) is { } replyTo)
                symbols.Add(new Symbol(ReplyTo, scores[ReplyTo], $"Reply-To {replyTo}"));
        }
        if (context.View is { } view && FirstInLinks(detector, view.Urls, cancellationToken) is { } links)
            symbols.Add(new Symbol(Link, scores[Link], $"link {links.First}" + (links.More > 0 ? $" (and {links.More} more)" : "")));
        return ValueTask.FromResult(Verdict.Continue(name, [.. symbols]));
    }

    private LookalikeDetector Detector(IReadOnlyList<string> domains)
    {
        var cached = Volatile.Read(ref _detector);
        if (cached is not null && ReferenceEquals(cached.Domains, domains))
            return cached.Detector;
        var detector = new LookalikeDetector([.. domains, .. brands]);
        Volatile.Write(ref _detector, new Built(domains, detector));
        return detector;
    }

    private static LookalikeFinding? FirstInAddresses(LookalikeDetector detector, HeaderList headers, HeaderId id)
    {
        var checkedAddresses = 0;
        foreach (var header in headers)
        {
            if (header.Id != id || !InternetAddressList.TryParse(header.Value, out var list))
                continue;
            foreach (var mailbox in list.Mailboxes)
            {
                if (++checkedAddresses > MaxAddresses)
                    return null;
                if (detector.Check(mailbox.Domain) is { } finding)
                    return finding;
            }
        }
        return null;
    }

    private static (LookalikeFinding First, int More)? FirstInLinks(LookalikeDetector detector, IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        LookalikeFinding? first = null;
        var more = 0;
        foreach (var url in urls)
        {
            if (url.HostNameType != UriHostNameType.Dns || !seen.Add(url.IdnHost))
                continue;
            if (seen.Count > MaxLinkHosts)
                break;
            cancellationToken.ThrowIfCancellationRequested();
            if (detector.Check(url.IdnHost) is { } finding)
            {
                if (first is null)
                    first = finding;
                else
                    more++;
            }
        }
        return first is null ? null : (first, more);
    }

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var brands = new List<string>();
        foreach (var (value, node) in options.StringList("brands"))
        {
            if (DomainNames.ToAscii(value) is not { } ascii || PublicSuffixList.Default.RegistrableDomain(ascii) is null)
                options.Error(node, $"'brands': '{value}' is not a domain with a registrable name (a public suffix alone cannot be protected)");
            else
                brands.Add(ascii);
        }
        return new LookalikeFilter(name, brands, ScoreOptions.Read(options, DefaultScores));
    }
}
