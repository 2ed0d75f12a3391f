using System.Text;
using Gateway.Detection.Bayes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection.Bayes;

/// <summary>The filter as the pipeline runs it (the explain path), `gateway learn`, and the release feedback.</summary>
public sealed class BayesFilterTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string ConfigYaml(int minLearns) => $"""
        pipeline:
          data:
            - {"{"} type: bayes, path: bayes.db, min_learns: {minLearns} {"}"}
        policy:
          thresholds: {"{"} add_header: 5 {"}"}
        """;

    private string WriteConfig(int minLearns)
    {
        var text = ConfigYaml(minLearns) + "\nrelay: { domains: [example.test] }\nupstream: { directory: out }\nquarantine: { directory: q }\nserver: { hostname: mx.test.example }\n";
        return _directory.Write("gateway.yaml", text);
    }

    [Fact]
    public async Task The_filter_abstains_until_it_has_learned_the_minimum_of_each_class()
    {
        var config = WriteConfig(minLearns: 25);
        var spamDir = BayesCorpus.WriteDirectory(_directory.Path, "spam", 30, spam: true);
        var hamMbox = BayesCorpus.WriteMbox(_directory.Path, "ham.mbox", 20, spam: false);
        var (exit, output, _) = CliRunner.Invoke("learn", "--config", config, "--spam", spamDir, "--ham", hamMbox);
        Assert.Equal(0, exit);
        Assert.Contains("learned 30 spam and 20 ham of 50 messages", output);

        var loaded = Gateway.Configuration.ConfigLoader.LoadFile(config).Config!;
        var report = await OfflineRun.RunAsync(loaded, new Gateway.Dns.ZoneResolver(), BayesCorpus.Spam(1, seed: 9));
        Assert.Contains("BAYES_UNTRAINED", report.Symbols);
        Assert.Equal(0, report.Score);
        Assert.Contains(report.Trace.SelectMany(t => t.Symbols), s => s.Contains("learned 30 spam and 20 ham; votes from 25 of each", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Learn_counts_a_message_once_forgets_and_the_trained_filter_explains_its_verdict()
    {
        var config = WriteConfig(minLearns: 20);
        var spamDir = BayesCorpus.WriteDirectory(_directory.Path, "spam", 40, spam: true);
        var hamMbox = BayesCorpus.WriteMbox(_directory.Path, "ham.mbox", 40, spam: false);
        Assert.Contains("learned 40 spam and 40 ham", CliRunner.Invoke("learn", "--config", config, "--spam", spamDir, "--ham", hamMbox).Out);
        var again = CliRunner.Invoke("learn", "--config", config, "--spam", spamDir);
        Assert.Contains("learned 0 spam and 0 ham of 40 messages (0 moved from the other class, 40 already known)", again.Out);
        Assert.Contains("40 spam, 40 ham", again.Out);
        Assert.Contains("skipped 40 file(s): not a message", again.Err);

        var loaded = Gateway.Configuration.ConfigLoader.LoadFile(config).Config!;
        var spam = await OfflineRun.RunAsync(loaded, new Gateway.Dns.ZoneResolver(), BayesCorpus.Spam(3, seed: 9));
        Assert.Contains("BAYES_SPAM", spam.Symbols);
        Assert.True(spam.Score >= 5, $"score {spam.Score}");
        var detail = spam.Trace.SelectMany(t => t.Symbols).Single(s => s.StartsWith("BAYES_SPAM", StringComparison.Ordinal));
        Assert.Matches(@"p=(0\.9\d+|1\.0000), \d+ tokens \(\d+ used\): "".+"" [01]\.\d\d \(\d+/\d+\)", detail);
        Assert.Contains("X-Spam-Flag: YES", spam.Headers);

        var ham = await OfflineRun.RunAsync(loaded, new Gateway.Dns.ZoneResolver(), BayesCorpus.Ham(3, seed: 9));
        Assert.Contains("BAYES_HAM", ham.Symbols);
        Assert.DoesNotContain("X-Spam-Flag: YES", ham.Headers);

        var forget = CliRunner.Invoke("learn", "--config", config, "--forget", "--spam", Path.Combine(spamDir, "00001.eml"), Path.Combine(spamDir, "00002.eml"));
        Assert.Contains("forgot 2 of 2 messages", forget.Out);
        Assert.Contains("38 spam, 40 ham", forget.Out);
    }

    [Fact]
    public async Task A_released_message_is_learned_as_ham_moving_it_if_it_was_learned_as_spam()
    {
        var config = Gateway.Configuration.ConfigLoader.LoadFile(WriteConfig(minLearns: 1)).Config!;
        var message = Encoding.UTF8.GetBytes(BayesCorpus.Spam(7));
        Assert.Equal(LearnOutcome.Learned, await BayesFeedback.LearnAsync(config, message, LearnKind.Spam, default));
        Assert.Equal("bayes: learned as ham (it had been learned as spam)", await BayesFeedback.LearnReleasedAsync(config, message, default));
        var snapshot = (await new BayesFileStore(Path.Combine(_directory.Path, "bayes.db"), BayesRetention.Default).LoadAsync(null, default))!;
        Assert.Equal((0, 1), (snapshot.SpamMessages, snapshot.HamMessages));
    }

    [Fact]
    public void A_redis_store_without_a_redis_state_section_is_refused_by_learn()
    {
        var config = _directory.Write("redis.yaml", "pipeline:\n  data:\n    - { type: bayes, store: redis }\nrelay: { domains: [example.test] }\nupstream: { directory: out }\n");
        var spam = BayesCorpus.WriteDirectory(_directory.Path, "spam", 1, spam: true);
        var (exit, _, error) = CliRunner.Invoke("learn", "--config", config, "--spam", spam);
        Assert.Equal(1, exit);
        Assert.Contains("'store: redis' needs 'state.backend: redis'", error);
    }

    [Fact]
    public async Task Autolearn_learns_a_message_the_filters_before_it_scored_past_the_threshold()
    {
        _directory.Write("bad-clients.txt", "192.0.2.0/24\n");
        var text = """
            pipeline:
              data:
                - { type: client_list, file: bad-clients.txt, action: score, score: 20 }
                - { type: bayes, path: bayes.db, min_learns: 200, autolearn: { spam: 15 } }
            relay: { domains: [example.test] }
            upstream: { directory: out }
            """;
        var config = Gateway.Configuration.ConfigLoader.Load(text, "gateway.yaml", _directory.Path).Config!;
        var written = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var setup = BayesSetup.Find(config)!;
        BayesAutolearnQueue.For(setup.Statistics(config.State)).Written += n => written.TrySetResult(n);

        var report = await OfflineRun.RunAsync(config, new Gateway.Dns.ZoneResolver(), BayesCorpus.Spam(4), clientIp: "192.0.2.7");
        Assert.Contains("BAYES_UNTRAINED", report.Symbols);
        Assert.Equal(1, await written.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var snapshot = (await new BayesFileStore(Path.Combine(_directory.Path, "bayes.db"), BayesRetention.Default).LoadAsync(null, default))!;
        Assert.Equal((1, 0), (snapshot.SpamMessages, snapshot.HamMessages));

    }

    [Fact]
    public void Options_are_validated()
    {
        var text = """
            pipeline:
              data:
                - { type: bayes, store: redis, path: x.db, spam_probability: 1.5, ham_probability: 0.2, autolearn: { spam: 1, ham: 3 } }
            relay: { domains: [example.test] }
            upstream: { directory: out }
            """;
        var result = Gateway.Configuration.ConfigLoader.Load(text, "gateway.yaml", _directory.Path);
        var errors = string.Join("\n", result.Errors);
        Assert.Contains("'path' is for store: file", errors);
        Assert.Contains("'spam_probability' must be a probability", errors);
        Assert.Contains("'autolearn.ham' must be below 'autolearn.spam'", errors);
    }
}
