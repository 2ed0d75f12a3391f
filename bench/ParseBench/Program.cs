// One MIME parse per transaction, measured (BenchmarkDotNet, allocations and time): a 50 KB DKIM-signed message (a
// text part and its HTML version with links) read by what the data phase runs: the rules' MessageView, DKIM
// verification (key from an in-memory zone), the Bayes tokenizer, and Subject/Message-ID for the log.
// "one parse" is the live path: the transaction's ParsedMessage shared by all. "a parse each" repeats what the code did
// before: MessageView parsing on its own (copying HTML parts), DKIM and Bayes each loading the message, a header scan.
using System.Net;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gateway.Authentication.Dkim;
using Gateway.Configuration;
using Gateway.Core;
using Gateway.Detection.Bayes;
using Gateway.Dns;
using Gateway.Mime;
using Gateway.Session;
using Gateway.Tracking;
using MimeKit;
using MimeKit.Cryptography;

BenchmarkRunner.Run<OneParse>(args: args);

[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class OneParse
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.10"), 40_000);
    private static readonly IPEndPoint Server = new(IPAddress.Loopback, 25);
    private static readonly IReadOnlyDictionary<string, string?> NoParameters = new Dictionary<string, string?>();

    private GatewayConfig _config = null!;
    private ZoneResolver _dns = null!;
    private SmtpPath _sender = null!;
    private byte[] _message = [];
    private readonly BayesTokenizer _tokenizer = new(BayesLimits.Default);

    [GlobalSetup]
    public void Setup()
    {
        using var rsa = RSA.Create(2048);
        _dns = new ZoneResolver().Add("s1._domainkey.sender.test", RecordType.TXT, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
        _config = ConfigLoader.Load("relay: { domains: [example.test] }\nupstream: { directory: out }", "gateway.yaml", Path.GetTempPath()).Config!;
        SmtpPath.TryParse("<alice@sender.test>", allowNull: true, allowBarePostmaster: false, out _sender, out _);
        _message = Generated.SignedMessage(rsa);
        if (OneParsePath().GetAwaiter().GetResult() != 1 || ParseEach().GetAwaiter().GetResult() != 1)
            throw new InvalidOperationException("DKIM did not pass");
        Console.WriteLine($"// ParseBench: message {_message.Length} bytes");
    }

    private MessageSpool Spool()
    {
        var spool = new MessageSpool();
        spool.Write(_message);
        return spool;
    }

    [Benchmark(Baseline = true, Description = "a parse each (rules, DKIM, Bayes, log)")]
    public async Task<int> ParseEach()
    {
        using var spool = Spool();
        var view = MessageView.Parse(spool, _config.Mime);
        MimeMessage forDkim;
        using (var stream = spool.OpenRead())
            forDkim = MimeMessage.Load(new ParserOptions { MaxMimeDepth = _config.Mime.MaxDepth + 1 }, stream);
        var dkim = await new DkimChecker(_dns, new DkimOptions()).VerifyAsync(forDkim, default);
        MimeMessage forBayes;
        using (var stream = spool.OpenRead())
            forBayes = MimeMessage.Load(new ParserOptions { MaxMimeDepth = 16 }, stream);
        var tokens = _tokenizer.Tokenize(forBayes);
        var (id, _) = HeaderScan.Find(spool);
        return Check(view, tokens, id, dkim);
    }

    [Benchmark(Description = "one parse per transaction")]
    public async Task<int> OneParsePath()
    {
        var connection = new Connection("B", _config, Client, Server);
        using var transaction = connection.BeginTransaction(_sender, NoParameters);
        transaction.Message = Spool();
        var view = MessageView.Of(transaction.ParsedMessage, _config.Mime, TimeProvider.System);
        var dkim = await new DkimChecker(_dns, new DkimOptions()).VerifyAsync(transaction.ParsedMessage(), default);
        var tokens = _tokenizer.Tokenize(transaction.ParsedMessage());
        var (id, _) = HeaderScan.Find(transaction.ParsedMessage().Headers);
        return Check(view, tokens, id, dkim);
    }

    private static int Check(MessageView view, IReadOnlyList<BayesToken> tokens, string? id, IReadOnlyList<DkimSignatureResult> dkim) =>
        view.BodyText.Length > 0 && view.HtmlDocuments.Count == 1 && tokens.Count > 0 && id is not null && dkim is [{ Result: DkimResult.Pass }] ? 1 : 0;
}

public static class Generated
{
    /// <summary>About 50 KB: a text part and its HTML version with 150 links, DKIM-signed (rsa-sha256, relaxed/relaxed), CRLF.</summary>
    public static byte[] SignedMessage(RSA key)
    {
        var random = new Random(7);
        string[] words = ["invoice", "delivery", "schedule", "pallet", "account", "contract", "update", "revised", "totals", "shared", "folder", "monday", "please", "confirm"];
        var text = new StringBuilder();
        var html = new StringBuilder("<html><body>");
        while (text.Length < 20_000)
        {
            var sentence = string.Join(' ', Enumerable.Range(0, 12).Select(_ => words[random.Next(words.Length)])) + ".";
            text.Append(sentence).Append('\n');
            html.Append("<p>").Append(sentence).Append($" <a href=\"https://news.sender.test/item/{random.Next(100000)}\">more</a></p>\n");
        }
        html.Append("</body></html>");
        var message = new MimeMessage
        {
            Subject = "Weekly delivery update",
            Date = new DateTimeOffset(2026, 11, 27, 14, 32, 5, TimeSpan.FromHours(1)),
            MessageId = "20261127143205.4f2a9c1e@mail.sender.test",
            Body = new MultipartAlternative
            {
                new TextPart("plain") { Text = text.ToString(), ContentTransferEncoding = ContentEncoding.QuotedPrintable },
                new TextPart("html") { Text = html.ToString(), ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            },
        };
        message.From.Add(new MailboxAddress("Alice Martin", "alice@sender.test"));
        message.To.Add(new MailboxAddress("Bob Keller", "bob@example.test"));
        message.Prepare(EncodingConstraint.SevenBit);
        var signer = new DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem())), "sender.test", "s1")
        {
            SignatureAlgorithm = DkimSignatureAlgorithm.RsaSha256,
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.MimeVersion, HeaderId.ContentType]);
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }
}
