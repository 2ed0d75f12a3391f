using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Detection.Bayes;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway learn [--spam PATH...] [--ham PATH...] [--forget]</c>: teaches the bayes filter's store from message
/// files, directories of them and mbox files, in batches (a file store is rewritten once per batch), with a
/// progress line on long runs and a summary at the end.
/// </summary>
public static class LearnCommand
{
    private const int BatchSize = 1000;

    public static async Task<int> RunAsync(string configPath, IReadOnlyList<string> spam, IReadOnlyList<string> ham, bool forget,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (spam.Count == 0 && ham.Count == 0)
        {
            stderr.WriteLine("learn: give --spam PATH and/or --ham PATH (message files, directories or mbox files)");
            return 2;
        }
        if (CheckCommand.Load(configPath, stderr, "; nothing learned") is not { } config)
            return 1;
        if (BayesSetup.Find(config) is not { } setup)
        {
            stderr.WriteLine($"{configPath}: no 'type: bayes' filter in the pipeline; nothing learned");
            return 1;
        }
        if (setup.Problem(config.State) is { } problem)
        {
            stderr.WriteLine($"{configPath}: {problem}; nothing learned");
            return 1;
        }
        await using var store = setup.OpenStore(config.State);
        var tally = new Dictionary<LearnOutcome, int>();
        var perClass = new Dictionary<LearnKind, int> { [LearnKind.Spam] = 0, [LearnKind.Ham] = 0 };
        var skipped = new List<string>();
        var batch = new List<LearnItem>(BatchSize);
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        var read = 0;

        async Task FlushAsync()
        {
            if (batch.Count == 0)
                return;
            var outcomes = await store.LearnAsync(batch, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < outcomes.Count; i++)
            {
                tally[outcomes[i]] = tally.GetValueOrDefault(outcomes[i]) + 1;
                if (outcomes[i] is LearnOutcome.Learned or LearnOutcome.Moved)
                    perClass[batch[i].Kind]++;
            }
            batch.Clear();
        }

        try
        {
            foreach (var (kind, paths) in new[] { (LearnKind.Spam, spam), (LearnKind.Ham, ham) })
            {
                foreach (var path in paths)
                {
                    if (!File.Exists(path) && !Directory.Exists(path))
                    {
                        stderr.WriteLine($"learn: {path}: no such file or directory");
                        return 1;
                    }
                    foreach (var file in MailFiles.Read(path, skipped.Add))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var message = BayesMessage.Read(new MemoryStream(file.Bytes, writable: false), setup.Tokenizer);
                        batch.Add(new LearnItem(message.Digest, forget ? LearnKind.Forget : kind, message.TokenIds));
                        read++;
                        if (batch.Count >= BatchSize)
                            await FlushAsync().ConfigureAwait(false);
                        if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(5))
                        {
                            lastProgress = clock.Elapsed;
                            stderr.WriteLine($"learn: {read} messages read ({read / clock.Elapsed.TotalSeconds:0}/s), {Count(tally, LearnOutcome.Learned, LearnOutcome.Moved, LearnOutcome.Forgotten)} applied so far");
                        }
                    }
                }
            }
            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (BayesStatistics.IsStoreFailure(e))
        {
            stderr.WriteLine($"learn: store {store.Description}: {e.Message}; the batch in progress was not saved");
            return 1;
        }

        // Skipped files by reason, with one example each (a corpus has a .json beside every message).
        foreach (var reason in skipped.GroupBy(line => line[(line.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]))
            stderr.WriteLine($"learn: skipped {reason.Count()} file(s): {reason.Key} (e.g. {reason.First()[..reason.First().LastIndexOf(": ", StringComparison.Ordinal)]})");
        var verb = forget ? "forgot" : "learned";
        stdout.WriteLine(forget
            ? $"{verb} {Count(tally, LearnOutcome.Forgotten)} of {read} messages ({Count(tally, LearnOutcome.NotKnown)} were not learned); {skipped.Count} files skipped; {clock.Elapsed.TotalSeconds:0.0}s"
            : $"{verb} {perClass[LearnKind.Spam]} spam and {perClass[LearnKind.Ham]} ham of {read} messages ({Count(tally, LearnOutcome.Moved)} moved from the other class, {Count(tally, LearnOutcome.AlreadyKnown)} already known); {skipped.Count} files skipped; {clock.Elapsed.TotalSeconds:0.0}s");
        try
        {
            var snapshot = await store.LoadAsync(null, cancellationToken).ConfigureAwait(false);
            stdout.WriteLine($"store {store.Description}: {snapshot}");
        }
        catch (Exception e) when (BayesStatistics.IsStoreFailure(e))
        {
            stderr.WriteLine($"learn: cannot read back {store.Description}: {e.Message}");
        }
        return 0;
    }

    private static int Count(Dictionary<LearnOutcome, int> tally, params LearnOutcome[] outcomes) => outcomes.Sum(o => tally.GetValueOrDefault(o));
}
