using System.Globalization;
using System.Text;
using Gateway.Configuration;
using Gateway.Pipeline;
using MimeKit;

namespace Gateway.Detection.Bayes;

/// <summary>The probability bands and scores of the filter's symbols.</summary>
/// <param name="SpamAt">BAYES_SPAM from this probability up; its score grows from half of <see cref="SpamScore"/> here to all of it at 1.</param>
/// <param name="HamAt">BAYES_HAM from this probability down, likewise with <see cref="HamScore"/>.</param>
/// <param name="MinLearns">Learned messages of each class needed before the filter votes.</param>
public sealed record BayesScoring(double SpamAt, double HamAt, double SpamScore, double HamScore, int MinLearns)
{
    public double ScoreFor(double probability) =>
        probability >= SpamAt ? SpamScore * (0.5 + 0.5 * (probability - SpamAt) / Math.Max(1 - SpamAt, 1e-9))
        : probability <= HamAt ? HamScore * (0.5 + 0.5 * (HamAt - probability) / Math.Max(HamAt, 1e-9))
        : 0;
}

/// <summary>Learn messages automatically when the other filters' score (before this one) reaches a threshold.</summary>
public sealed record BayesAutolearn(double? SpamAt, double? HamAt);

/// <summary>
/// <c>type: bayes</c> at data: scores the message with the learned statistics (<see cref="BayesClassifier"/>) and
/// reports BAYES_SPAM or BAYES_HAM with the probability and the tokens that weighed most; BAYES_UNSURE (0) in
/// between. It abstains (BAYES_UNTRAINED, 0) until the store holds <c>min_learns</c> messages of each class.
/// </summary>
public sealed class BayesFilter(string name, BayesSetup setup, BayesScoring scoring, BayesParameters parameters, BayesAutolearn autolearn) : IFilter
{
    private static readonly IReadOnlySet<Phase> Served = new HashSet<Phase> { Phase.Data };

    public IReadOnlySet<Phase> Phases => Served;

    public BayesSetup Setup => setup;

    public BayesScoring Scoring => scoring;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        if (context.Message is null)
            return Verdict.Continue(name);
        var session = context.Session;
        if (setup.Problem(session.Config.State) is { } problem)
            return Verdict.Continue(name, new Symbol("BAYES_UNTRAINED", 0, problem));
        var statistics = setup.Statistics(session.Config.State);
        statistics.Logger ??= session.Pipeline.Logger;
        var snapshot = await statistics.GetAsync(cancellationToken).ConfigureAwait(false);
        var autolearnKind = AutolearnKind(session.Evaluation.Score);
        if (snapshot.SpamMessages < scoring.MinLearns || snapshot.HamMessages < scoring.MinLearns)
        {
            var untrained = new Symbol("BAYES_UNTRAINED", 0,
                $"learned {snapshot.SpamMessages} spam and {snapshot.HamMessages} ham; votes from {scoring.MinLearns} of each");
            if (autolearnKind is { } early)
                Autolearn(context, statistics, early);
            return Verdict.Continue(name, untrained);
        }

        MimeMessage message;
        try
        {
            message = context.ParsedMessage(); // the transaction's one parse, shared with rules and DKIM
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
        {
            return Verdict.Continue(name, new Symbol("BAYES_UNSURE", 0, "the message cannot be parsed"));
        }
        var tokens = setup.Tokenizer.Tokenize(message);
        var result = BayesClassifier.Classify(tokens, snapshot, parameters);
        var score = scoring.ScoreFor(result.Probability);
        var symbolName = result.Probability >= scoring.SpamAt ? "BAYES_SPAM" : result.Probability <= scoring.HamAt ? "BAYES_HAM" : "BAYES_UNSURE";
        if (autolearnKind is { } kind)
            Autolearn(statistics, kind, message, tokens);
        return Verdict.Continue(name, new Symbol(symbolName, Math.Round(score, 2), Detail(result)));
    }

    /// <summary>"p=0.9987, 412 tokens (150 used): "viagra" 0.99 (80/0), ..." for logs, the symbols header and explain.</summary>
    internal static string Detail(BayesResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"p={result.Probability:0.0000}, {result.Tokens} tokens ({result.Used} used)");
        var separator = ": ";
        foreach (var token in result.Strongest)
        {
            var shown = token.Text.Length > 40 ? token.Text[..40] : token.Text;
            text.Append(separator).Append(CultureInfo.InvariantCulture, $"\"{shown.Replace('"', '\'')}\" {token.Probability:0.00} ({token.Spam}/{token.Ham})");
            separator = ", ";
        }
        return text.ToString();
    }

    private LearnKind? AutolearnKind(double scoreBefore) =>
        autolearn.SpamAt is { } spam && scoreBefore >= spam ? LearnKind.Spam
        : autolearn.HamAt is { } ham && scoreBefore <= ham ? LearnKind.Ham
        : null;

    private void Autolearn(FilterContext context, BayesStatistics statistics, LearnKind kind)
    {
        try
        {
            var message = context.ParsedMessage();
            Autolearn(statistics, kind, message, setup.Tokenizer.Tokenize(message));
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or NotSupportedException)
        {
        }
    }

    private static void Autolearn(BayesStatistics statistics, LearnKind kind, MimeMessage message, IReadOnlyList<BayesToken> tokens) =>
        BayesAutolearnQueue.For(statistics).Enqueue(new LearnItem(BayesMessage.DigestOf(message), kind, [.. tokens.Select(t => t.Id)]));

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var kind = options.Enum("store", BayesStoreKind.File);
        var path = options.String("path") ?? "bayes.db";
        if (kind == BayesStoreKind.Redis && options.Get("path") is { } pathNode)
            options.Error(pathNode, "'path' is for store: file; store: redis uses the Redis of the state section");
        var fullPath = Path.GetFullPath(Path.Combine(baseDirectory, path));
        var limits = new BayesLimits(
            options.Int("max_tokens", BayesLimits.Default.MaxTokens, 100, 100_000),
            options.Int("max_token_length", BayesLimits.Default.MaxTokenLength, 8, 64),
            (int)Math.Min(options.Size("max_text", BayesLimits.Default.MaxTextChars, 1024), 16 << 20));
        var retention = new BayesRetention(
            options.Int("prune_hapaxes_after", BayesRetention.Default.PruneHapaxesAfter, 100, int.MaxValue),
            options.Int("max_store_tokens", BayesRetention.Default.MaxTokens, 10_000, 100_000_000),
            options.Int("max_store_messages", BayesRetention.Default.MaxMessages, 1_000, 100_000_000));
        var refresh = options.Duration("refresh", TimeSpan.FromSeconds(30));
        var spamAt = Probability(options, "spam_probability", 0.99);
        var hamAt = Probability(options, "ham_probability", 0.1);
        if (hamAt >= spamAt)
            options.Error(options.Get("ham_probability") ?? options.Node, "'ham_probability' must be below 'spam_probability'");
        var scores = Filters.ScoreOptions.Read(options, new Dictionary<string, double> { ["BAYES_SPAM"] = 10, ["BAYES_HAM"] = -2 });
        var minLearns = options.Int("min_learns", 200, 1, 1_000_000);
        var auto = options.Mapping("autolearn");
        var autolearn = new BayesAutolearn(auto.Number("spam"), auto.Number("ham"));
        auto.RejectUnknownKeys();
        if (autolearn is { SpamAt: { } s, HamAt: { } h } && h >= s)
            options.Error(options.Get("autolearn"), "'autolearn.ham' must be below 'autolearn.spam'");
        var setup = new BayesSetup(kind, fullPath, limits, retention, refresh);
        return new BayesFilter(name, setup, new BayesScoring(spamAt, hamAt, scores["BAYES_SPAM"], scores["BAYES_HAM"], minLearns), BayesParameters.Default, autolearn);
    }

    private static double Probability(YamlMappingReader options, string key, double fallback)
    {
        var value = options.Number(key) ?? fallback;
        if (value is <= 0 or >= 1)
        {
            options.Error(options.Get(key), $"'{key}' must be a probability between 0 and 1 (exclusive)");
            return fallback;
        }
        return value;
    }
}
