using System.Globalization;

namespace Gateway.Authentication;

/// <summary>The finished checks of a transaction as Authentication-Results method results (RFC 8601, RFC 7489 11.2, RFC 8617 11.2).</summary>
public static class AuthenticationReport
{
    public static IReadOnlyList<MethodResult> Results(AuthenticationState auth)
    {
        var results = new List<MethodResult>();
        if (auth.Spf is { } spf)
        {
            var property = spf.Identity == "helo" ? ("smtp.helo", spf.Domain) : ("smtp.mailfrom", spf.Sender);
            results.Add(new("spf", Name(spf.Result), Problem(spf), [property]));
        }
        if (auth.HeloSpf is { } helo && auth.Spf is not { Identity: "helo" })
            results.Add(new("spf", Name(helo.Result), Problem(helo), [("smtp.helo", helo.Domain)]));
        if (auth.Dkim is { } dkim)
        {
            if (dkim.Count == 0)
                results.Add(new("dkim", "none", null, []));
            foreach (var s in dkim)
            {
                var properties = new List<(string, string)>();
                if (s.Domain is { } d)
                    properties.Add(("header.d", d));
                if (s.Identity is { } i)
                    properties.Add(("header.i", i));
                if (s.Selector is { } sel)
                    properties.Add(("header.s", sel));
                if (s.Algorithm is { } a)
                    properties.Add(("header.a", a));
                if (s.HeaderB is { } b)
                    properties.Add(("header.b", b));
                results.Add(new("dkim", Name(s.Result), s.Reason, properties));
            }
        }
        if (auth.Arc is { } arc)
        {
            var properties = new List<(string, string)>();
            if (arc.OldestPass is { } oldest)
                properties.Add(("header.oldest-pass", oldest.ToString(CultureInfo.InvariantCulture)));
            properties.Add(("smtp.remote-ip", auth.Client.ToString()));
            results.Add(new("arc", Name(arc.Result), arc.Reason, properties));
        }
        if (auth.Dmarc is { } dmarc)
        {
            var properties = new List<(string, string)>();
            if (dmarc.Domain is { } from)
                properties.Add(("header.from", from));
            if (dmarc.PolicySource is not null)
                properties.Add(("policy.dmarc", Name(dmarc.Policy)));
            results.Add(new("dmarc", Name(dmarc.Result), dmarc.Result == Dmarc.DmarcResult.Pass ? null : dmarc.Reason, properties));
        }
        return results;
    }

    /// <summary>Why SPF could not give an answer; a plain result needs no reason.</summary>
    private static string? Problem(Spf.SpfOutcome spf) => spf.Result is Spf.SpfResult.PermError or Spf.SpfResult.TempError ? spf.Problem : null;

    private static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
