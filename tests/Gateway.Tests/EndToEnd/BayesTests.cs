using System.Text;
using Gateway.Detection.Bayes;
using Gateway.Tests.Detection.Bayes;
using Gateway.Tests.Support;
using MimeKit;

namespace Gateway.Tests.EndToEnd;

/// <summary>A trained gateway over SMTP: spam is quarantined or tagged, ham is delivered untouched.</summary>
public sealed class BayesTests(State.RedisFixture redis) : IClassFixture<State.RedisFixture>
{
    /// <summary>Writes a store trained on the tests' own corpus into the gateway's directory before it starts.</summary>
    private static void Train(string directory)
    {
        var tokenizer = new BayesTokenizer(BayesLimits.Default);
        var data = new BayesData();
        for (var i = 0; i < 40; i++)
        {
            foreach (var (text, kind) in new[] { (BayesCorpus.Spam(i), LearnKind.Spam), (BayesCorpus.Ham(i), LearnKind.Ham) })
            {
                var m = BayesMessage.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), tokenizer);
                data.Apply(new LearnItem(m.Digest, kind, m.TokenIds));
            }
        }
        using var file = File.Create(Path.Combine(directory, "bayes.db"));
        data.Write(file);
    }

    private static MimeMessage Parse(string text) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task A_trained_gateway_tags_spam_with_X_Spam_Flag_and_delivers_ham_untouched()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("""
            pipeline:
              data:
                - { type: bayes, path: bayes.db, min_learns: 20 }
            policy:
              thresholds: { add_header: 5 }
            """, upstream, prepareDirectory: Train);

        await Mail.SendAsync(gateway.Port, Parse(BayesCorpus.Spam(5, seed: 9)), "deals@promo.example", ["bob@example.test"]);
        // A sender's own X-Spam-Flag never reaches the recipient: only the gateway's verdict does.
        var forged = Parse(BayesCorpus.Ham(5, seed: 9));
        forged.Headers.Add("X-Spam-Flag", "NO");
        await Mail.SendAsync(gateway.Port, forged, "dev1@project.example", ["bob@example.test"]);

        Assert.Equal(2, upstream.Messages.Count);
        var spam = upstream.Messages.Single(m => m.MailFrom == "deals@promo.example").Text;
        var ham = upstream.Messages.Single(m => m.MailFrom == "dev1@project.example").Text;
        Assert.Contains("X-Spam-Flag: YES\r\n", spam);
        Assert.Matches(@"X-Gateway-Symbols: .*BAYES_SPAM\(\d+(\.\d+)?: p=", spam);
        Assert.DoesNotContain("X-Spam-Flag", ham);
    }

    [Fact]
    public async Task A_trained_gateway_can_quarantine_spam_past_the_quarantine_threshold()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("""
            pipeline:
              data:
                - { type: bayes, path: bayes.db, min_learns: 20, scores: { BAYES_SPAM: 15 } }
            policy:
              thresholds: { add_header: 5, quarantine: 12 }
            quarantine:
              directory: q
            """, upstream, prepareDirectory: Train);

        var reply = await Mail.SendAsync(gateway.Port, Parse(BayesCorpus.Spam(6, seed: 9)), "deals@promo.example", ["bob@example.test"]);
        await Mail.SendAsync(gateway.Port, Parse(BayesCorpus.Ham(6, seed: 9)), "dev1@project.example", ["bob@example.test"]);

        Assert.Contains("held for review", reply);
        Assert.Single(Directory.GetFiles(Path.Combine(gateway.Directory, "q"), "*.eml"));
        Assert.Equal("dev1@project.example", Assert.Single(upstream.Messages).MailFrom);
    }

    [Fact]
    public async Task Two_gateways_sharing_redis_score_with_what_either_learned()
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        var yaml = $$"""
            pipeline:
              data:
                - { type: bayes, store: redis, min_learns: 20 }
            policy:
              thresholds: { add_header: 5 }
            state:
              backend: redis
              redis: { endpoint: "127.0.0.1:{{redis.Server.Port}}", key_prefix: "{{prefix}}", timeout: 5s }
            """;
        await using var upstream = new FakeUpstream();
        await using var first = await GatewayHost.StartAsync(yaml, upstream);
        // What the first gateway's admin teaches (as `gateway learn` would, with the first gateway's configuration)...
        for (var i = 0; i < 25; i++)
        {
            await BayesFeedback.LearnAsync(first.Config, Encoding.UTF8.GetBytes(BayesCorpus.Spam(i)), LearnKind.Spam, default);
            await BayesFeedback.LearnAsync(first.Config, Encoding.UTF8.GetBytes(BayesCorpus.Ham(i)), LearnKind.Ham, default);
        }
        // ...the second gateway scores with, from its first message.
        await using var second = await GatewayHost.StartAsync(yaml, upstream);
        await Mail.SendAsync(second.Port, Parse(BayesCorpus.Spam(7, seed: 9)), "deals@promo.example", ["bob@example.test"]);

        Assert.Contains("X-Spam-Flag: YES\r\n", Assert.Single(upstream.Messages).Text);
    }
}
