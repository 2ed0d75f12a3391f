using System.Text;
using Gateway.Detection.Bayes;

namespace Gateway.Tests.Detection.Bayes;

public sealed class BayesClassifierTests
{
    private static readonly BayesTokenizer Tokenizer = new(BayesLimits.Default);

    private static BayesMessage Read(string message) => BayesMessage.Read(new MemoryStream(Encoding.UTF8.GetBytes(message)), Tokenizer);

    private static BayesSnapshot Trained(int count)
    {
        var data = new BayesData();
        for (var i = 0; i < count; i++)
        {
            data.Apply(new LearnItem(Read(BayesCorpus.Spam(i)).Digest, LearnKind.Spam, Read(BayesCorpus.Spam(i)).TokenIds));
            data.Apply(new LearnItem(Read(BayesCorpus.Ham(i)).Digest, LearnKind.Ham, Read(BayesCorpus.Ham(i)).TokenIds));
        }
        return data.Snapshot("test");
    }

    [Fact]
    public void Unseen_spam_scores_near_one_and_unseen_ham_near_zero_naming_the_tokens_that_weighed_most()
    {
        var snapshot = Trained(60);
        var spam = BayesClassifier.Classify(Read(BayesCorpus.Spam(1, seed: 9)).Tokens, snapshot, BayesParameters.Default);
        var ham = BayesClassifier.Classify(Read(BayesCorpus.Ham(1, seed: 9)).Tokens, snapshot, BayesParameters.Default);

        Assert.True(spam.Probability > 0.99, $"spam {spam.Probability}");
        Assert.True(ham.Probability < 0.01, $"ham {ham.Probability}");
        Assert.NotEmpty(spam.Strongest);
        Assert.All(spam.Strongest, t => Assert.True(t.Probability > 0.5, t.Text));
        Assert.All(ham.Strongest, t => Assert.True(t.Probability < 0.5, t.Text));
    }

    [Fact]
    public void A_message_of_unknown_tokens_is_undecided()
    {
        var result = BayesClassifier.Classify([new BayesToken(1, "qqqx"), new BayesToken(2, "wwwy")], Trained(10), BayesParameters.Default);
        Assert.Equal(0.5, result.Probability);
        Assert.Equal(0, result.Used);
    }

    [Fact]
    public void Chi_square_survival_matches_known_values()
    {
        Assert.Equal(1, BayesClassifier.ChiSquareSurvival(0, 4));
        Assert.Equal(Math.Exp(-1), BayesClassifier.ChiSquareSurvival(2, 2), 12);
        Assert.Equal(Math.Exp(-2) * 3, BayesClassifier.ChiSquareSurvival(4, 4), 12);
        // Large sums stay finite (computed in logarithms).
        Assert.InRange(BayesClassifier.ChiSquareSurvival(3000, 1000), 0, 1e-100);
    }
}

public sealed class BayesTokenizerTests
{
    private static IReadOnlyList<string> Tokens(string message, BayesLimits? limits = null) =>
        [.. new BayesTokenizer(limits ?? BayesLimits.Default).Tokenize(new MemoryStream(Encoding.UTF8.GetBytes(message))).Select(t => t.Text)];

    [Fact]
    public void Headers_are_prefixed_by_where_they_were_found_and_html_becomes_text_urls_and_tag_names()
    {
        var tokens = Tokens("From: Prize Team <win@promo.example>\r\nSubject: Claim your PRIZE\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n" +
            "<html><body><p>Dear <b>friend</b>, <a href=\"http://win.promo.example/claim/now?x=1\">click</a></p><script>hidden()</script></body></html>\r\n" +
            "--b\r\nContent-Type: application/octet-stream; name=invoice.exe\r\nContent-Disposition: attachment; filename=invoice.exe\r\n\r\nAAAA\r\n--b--\r\n");

        Assert.Contains("s:claim", tokens);
        Assert.Contains("s:UC:prize", tokens);
        Assert.Contains("s:2:claim your", tokens);
        Assert.Contains("f:dom:promo.example", tokens);
        Assert.Contains("h:mime-version", tokens);
        Assert.Contains("friend", tokens);
        Assert.Contains("tag:b", tokens);
        Assert.Contains("url:win.promo.example", tokens);
        Assert.Contains("urlp:claim", tokens);
        Assert.Contains("att:ext:exe", tokens);
        Assert.Contains("att:type:application/octet-stream", tokens);
        Assert.DoesNotContain("hidden", tokens);
    }

    [Fact]
    public void Chinese_is_read_as_character_pairs_in_its_legacy_charset_with_the_script_and_the_encoded_word_charset()
    {
        var tokenizer = new BayesTokenizer(BayesLimits.Default); // loading the gateway registers the legacy charsets
        var gb2312 = Encoding.GetEncoding("gb2312");
        var subject = Convert.ToBase64String(gb2312.GetBytes("免费发票"));
        var head = Encoding.ASCII.GetBytes($"From: sales@example.cn\r\nSubject: =?GB2312?B?{subject}?=\r\n" +
            "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        var body = gb2312.GetBytes("我们公司 提供发票\r\n");
        var tokens = tokenizer.Tokenize(new MemoryStream([.. head, .. body])).Select(t => t.Text).ToList();

        Assert.Contains("hcs:gb2312", tokens);
        Assert.Contains("script:han", tokens);
        Assert.Contains("s:免费", tokens);
        Assert.Contains("s:费发", tokens);
        Assert.Contains("我们", tokens);
        Assert.Contains("公司", tokens);
        Assert.Contains("发票", tokens);
        Assert.DoesNotContain("司提", tokens); // a space ends a run
        Assert.Single(tokens, t => t.StartsWith("script:", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_writing_system_other_than_latin_is_one_token_and_korean_words_of_two_syllables_count()
    {
        var tokens = Tokens("Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n안녕 하세요 привет мир café naïve\r\n");

        Assert.Contains("안녕", tokens);
        Assert.Contains("하세요", tokens);
        Assert.Contains("script:hangul", tokens);
        Assert.Contains("привет", tokens);
        Assert.Contains("script:cyrillic", tokens);
        Assert.Contains("café", tokens);
        Assert.Equal(2, tokens.Count(t => t.StartsWith("script:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Html_is_read_as_a_reader_sees_it_inline_tags_and_comments_join_words_and_hidden_text_is_left_out()
    {
        var tokens = Tokens("Subject: s\r\nContent-Type: text/html\r\n\r\n" +
            "<html><body><p>Cheap V<!-- x -->iagra and Ci<b></b>alis</p><p>next</p>" +
            "<div style=\"display: none\">meeting agenda</div><font color=\"#FFFFFF\">quarterly report</font>" +
            "<table bgcolor=\"#000000\"><tr><td><font color=white>visible</font></td></tr></table></body></html>\r\n");

        Assert.Contains("viagra", tokens);
        Assert.Contains("cialis", tokens);
        Assert.Contains("2:cheap viagra", tokens);
        Assert.Contains("next", tokens);
        Assert.Contains("visible", tokens);
        Assert.Contains("html:hidden", tokens);
        Assert.DoesNotContain(tokens, t => t.Contains("meeting", StringComparison.Ordinal) || t.Contains("quarterly", StringComparison.Ordinal));
        Assert.DoesNotContain("html:hidden", Tokens("Subject: s\r\nContent-Type: text/html\r\n\r\n<p>plain <b>words</b></p>\r\n"));
    }

    [Fact]
    public void What_the_receiving_site_writes_on_delivery_and_the_recipients_addresses_are_not_tokens()
    {
        var tokens = Tokens(
            "Return-Path: <a@sender.example>\r\nDelivered-To: user@mailbox.example.test\r\nX-Spam-Status: No, score=0.1\r\n" +
            "Received: from relay.sender.example (relay.sender.example [198.51.100.23]) by mx.example.test (8.9.3/8.9.3) with ESMTP id UAA06531\r\n" +
            "Message-ID: <1234@sender.example>\r\nDate: Thu, 22 Aug 2002 13:18:16 -0500\r\nFrom: a@sender.example\r\n" +
            "To: Jane Doe <jane@mailbox.example.test>, bob@mailbox.example.test\r\nSubject: s\r\n\r\nbody\r\n");

        // A gateway scoring the message sees none of these: they would teach it who collected the mail.
        Assert.DoesNotContain(tokens, t => t.Contains("mailbox.example.test", StringComparison.Ordinal) || t.Contains("relay.sender", StringComparison.Ordinal));
        Assert.DoesNotContain(tokens, t => t.StartsWith("rcvd", StringComparison.Ordinal) || t is "h:received" or "h:delivered-to" or "h:x-spam-status");
        Assert.DoesNotContain(tokens, t => t.StartsWith("to:user", StringComparison.Ordinal) || t.StartsWith("to:dom", StringComparison.Ordinal));
        Assert.Contains("to:jane", tokens);
        Assert.Contains("to:count:2", tokens);
        Assert.Contains("rp:dom:sender.example", tokens);
        Assert.Contains("date:zone:-0500", tokens);
        Assert.Contains("date:shape:Aa, 9 Aa 9 9:9:9 -9", tokens);
        Assert.Contains("ho:message-id>date", tokens);
        Assert.DoesNotContain("ho:x-spam-status>message-id", tokens);
        Assert.DoesNotContain("x:nomessageid", tokens);

        var bare = Tokens("Subject: s\r\n\r\nbody\r\n");
        Assert.Contains("x:nomessageid", bare);
        Assert.Contains("x:nodate", bare);
    }

    [Fact]
    public void Links_give_their_host_or_ip_port_path_words_and_query()
    {
        var tokens = Tokens("Subject: s\r\n\r\nsee http://user@10.0.0.1:8080/Get/Paid?id=7 and HTTPS://Shop.Example.COM./ and www.plain.example/x\r\n");
        Assert.Contains("url:ip", tokens);
        Assert.Contains("url:port", tokens);
        Assert.Contains("urlp:get", tokens);
        Assert.Contains("url:query", tokens);
        Assert.Contains("url:shop.example.com", tokens);
        Assert.Contains("url:example.com", tokens);
        Assert.Contains("url:plain.example", tokens);
        Assert.DoesNotContain(tokens, t => t.StartsWith("url", StringComparison.Ordinal) && t.Contains("user", StringComparison.Ordinal));
    }

    [Fact]
    public void A_huge_message_gives_at_most_the_token_limit_and_long_words_are_shortened()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 200_000; i++)
            body.Append("w").Append(i).Append(' ');
        body.Append(new string('x', 500));
        var limits = new BayesLimits(500, 24, 1 << 20);
        var tokens = Tokens("Subject: big\r\n\r\n" + body, limits);
        Assert.Equal(500, tokens.Count);

        var shortened = Tokens("Subject: s\r\n\r\n" + new string('y', 300) + "\r\n");
        Assert.Contains("sk:yyyyyyy:9", shortened);
        Assert.All(shortened, t => Assert.True(t.Length <= 64, t));
    }

    [Fact]
    public void Text_past_the_byte_limit_is_not_read()
    {
        var tokens = Tokens("Subject: s\r\n\r\n" + new string('a', 2000).Replace("a", "pad ") + " lateword\r\n", new BayesLimits(3000, 24, 1024));
        Assert.DoesNotContain("lateword", tokens);
        Assert.Contains("pad", tokens);
    }
}
