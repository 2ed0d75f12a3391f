namespace Gateway.Detection.Bayes;

/// <summary>
/// The constants of Robinson's method. <see cref="Strength"/> (s) and <see cref="UnknownProbability"/> (x) pull the
/// estimate of a rarely seen token towards x; tokens whose estimate is within <see cref="MinDeviation"/> of 0.5 say
/// nothing and are skipped; at most <see cref="MaxTokens"/> of the strongest are combined.
/// </summary>
public sealed record BayesParameters(double Strength, double UnknownProbability, double MinDeviation, int MaxTokens)
{
    public static readonly BayesParameters Default = new(1.0, 0.5, 0.1, 500);
}

/// <summary>One token's weight in a verdict, for explain.</summary>
public readonly record struct WeighedToken(string Text, double Probability, uint Spam, uint Ham);

/// <summary>A message's spam probability (0 ham ... 1 spam) and the tokens that weighed most either way.</summary>
public sealed record BayesResult(double Probability, int Tokens, int Used, IReadOnlyList<WeighedToken> Strongest);

/// <summary>
/// Robinson's per-token estimate combined with Fisher's chi-square method, as SpamAssassin and bogofilter do:
/// for each token f(w) = (s·x + n·p(w)) / (s + n) with p(w) the share of its spam frequency, then
/// H = C⁻¹(−2 Σ ln f(w), 2N), S = C⁻¹(−2 Σ ln(1 − f(w)), 2N) and the probability (1 + H − S) / 2. The formula is
/// a few lines of arithmetic, written here after the published descriptions (Robinson 2003; bogofilter's docs).
/// </summary>
public static class BayesClassifier
{
    public static BayesResult Classify(IReadOnlyList<BayesToken> tokens, BayesSnapshot snapshot, BayesParameters parameters, int explain = 6)
    {
        double ns = Math.Max(snapshot.SpamMessages, 1), nh = Math.Max(snapshot.HamMessages, 1);
        var weighed = new List<(double Deviation, double F, int Index, TokenCount Count)>(Math.Min(tokens.Count, 1024));
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!snapshot.Tokens.TryGetValue(tokens[i].Id, out var count) || count.Total == 0)
                continue;
            var spamRatio = Math.Min(count.Spam / ns, 1);
            var hamRatio = Math.Min(count.Ham / nh, 1);
            var p = spamRatio / (spamRatio + hamRatio);
            var n = count.Total;
            var f = (parameters.Strength * parameters.UnknownProbability + n * p) / (parameters.Strength + n);
            f = Math.Clamp(f, 0.0001, 0.9999);
            var deviation = Math.Abs(f - 0.5);
            if (deviation >= parameters.MinDeviation)
                weighed.Add((deviation, f, i, count));
        }
        if (weighed.Count == 0)
            return new BayesResult(0.5, tokens.Count, 0, []);
        weighed.Sort((a, b) => b.Deviation.CompareTo(a.Deviation));
        var used = Math.Min(weighed.Count, parameters.MaxTokens);
        double sumLnF = 0, sumLn1MinusF = 0;
        for (var i = 0; i < used; i++)
        {
            sumLnF += Math.Log(weighed[i].F);
            sumLn1MinusF += Math.Log(1 - weighed[i].F);
        }
        var hamness = ChiSquareSurvival(-2 * sumLnF, 2 * used);
        var spamness = ChiSquareSurvival(-2 * sumLn1MinusF, 2 * used);
        var probability = (1 + hamness - spamness) / 2;
        // The strongest tokens on the side of the verdict first, then the other side, for explain.
        var strongest = weighed.Take(used)
            .OrderByDescending(w => probability >= 0.5 ? w.F : 1 - w.F)
            .Take(explain)
            .Select(w => new WeighedToken(tokens[w.Index].Text, w.F, w.Count.Spam, w.Count.Ham))
            .ToList();
        return new BayesResult(probability, tokens.Count, used, strongest);
    }

    /// <summary>
    /// Q(χ² | v) for even v: the probability that a chi-square variable with v degrees of freedom is at least χ²,
    /// as the finite sum e^(−m) Σ_{i&lt;v/2} m^i / i!, computed in logarithms so that large sums do not underflow.
    /// </summary>
    internal static double ChiSquareSurvival(double chi, int v)
    {
        var m = chi / 2;
        if (m <= 0)
            return 1;
        var logTerm = -m;
        var logSum = logTerm;
        for (var i = 1; i < v / 2; i++)
        {
            logTerm += Math.Log(m / i);
            logSum = logSum > logTerm ? logSum + Math.Log(1 + Math.Exp(logTerm - logSum)) : logTerm + Math.Log(1 + Math.Exp(logSum - logTerm));
        }
        return Math.Min(Math.Exp(logSum), 1);
    }
}
