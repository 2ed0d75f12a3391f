// The Bayes benchmarks (bench/run-bayes-corpus runs them):
//   classify --config FILE DIR...   every message of each folder through the configured pipeline offline, as
//                                   `gateway explain` runs it (content only: DNS answers nothing), and the share
//                                   caught (refused, quarantined, or tagged with X-Spam-Flag) per folder;
//   micro --config FILE             median CPU time of scoring one 50 KB message with the learned statistics;
//   cv --config FILE SPAM HAM       five-fold cross-validation on the training folders only (BAYES_TEMPORAL: one
//                                   split in time; BAYES_GROUP: folds by source, List-Id or From domain; BAYES_DROP:
//                                   token prefixes to leave out; BAYES_GRID: constants; BAYES_SHOW: the nearest misses);
//   tokens --config FILE SPAM HAM P the most frequent tokens starting with P, with their spam and ham counts.
using System.Diagnostics;
using System.Text;
using Gateway.Cli;
using Gateway.Configuration;
using Gateway.Detection.Bayes;
using Gateway.Dns;

if (args.Length < 3 || args[1] != "--config")
{
    Console.Error.WriteLine("usage: BayesBench classify --config FILE DIR... | micro --config FILE");
    return 2;
}
var loaded = ConfigLoader.LoadFile(args[2]);
if (!loaded.IsValid)
{
    Console.Error.WriteLine(string.Join("\n", loaded.Errors));
    return 1;
}
var config = loaded.Config!;
return args[0] switch
{
    "classify" => await ClassifyAsync(config, args[3..]),
    "micro" => await MicroAsync(config),
    "cv" => CrossValidate(config, args[3], args[4]),
    "tokens" => Tokens(config, args[3], args[4], args[5]),
    _ => 2,
};

static async Task<int> ClassifyAsync(GatewayConfig config, string[] folders)
{
    var dns = new ZoneResolver(); // every name NXDOMAIN: no network, content only
    Console.WriteLine($"{"folder",-12} {"messages",8} {"refused",8} {"quarant.",8} {"tagged",8} {"caught",8} {"tempfail",8}");
    foreach (var folder in folders)
    {
        int total = 0, refused = 0, quarantined = 0, tagged = 0, tempfailed = 0;
        var skipped = new List<string>();
        foreach (var file in MailFiles.Read(folder, skipped.Add))
        {
            total++;
            var options = new ExplainCommand.Options("", file.Source, "192.0.2.1", "mail.example.net", "sender@example.net", ["user@example.test"], Json: false, Dns: dns);
            var report = await ExplainCommand.ExplainAsync(config, options, file.Bytes, CancellationToken.None);
            switch (report.Verdict)
            {
                case "reject":
                    refused++;
                    break;
                case "quarantine":
                    quarantined++;
                    break;
                case "tempfail":
                    tempfailed++;
                    break;
                default:
                    if (report.Headers.Any(h => h.StartsWith("X-Spam-Flag: YES", StringComparison.OrdinalIgnoreCase)))
                        tagged++;
                    break;
            }
        }
        var caught = refused + quarantined + tagged;
        Console.WriteLine($"{Path.GetFileName(folder.TrimEnd('/')),-12} {total,8} {refused,8} {quarantined,8} {tagged,8} {100.0 * caught / Math.Max(total, 1),7:0.00}% {tempfailed,8}");
    }
    return 0;
}

static async Task<int> MicroAsync(GatewayConfig config)
{
    var setup = BayesSetup.Find(config) ?? throw new InvalidOperationException("no bayes filter in the configuration");
    var snapshot = await setup.Statistics(config.State).GetAsync(CancellationToken.None);
    var raw = FiftyKilobytes();
    var parameters = BayesParameters.Default;
    double Score()
    {
        var message = MimeKit.MimeMessage.Load(new MemoryStream(raw, writable: false));
        var tokens = setup.Tokenizer.Tokenize(message);
        return BayesClassifier.Classify(tokens, snapshot, parameters).Probability;
    }
    if (Environment.GetEnvironmentVariable("BAYES_PROFILE") is not null)
    {
        double Parse() => MimeKit.MimeMessage.Load(new MemoryStream(raw, writable: false)).Headers.Count;
        double Html()
        {
            var m = MimeKit.MimeMessage.Load(new MemoryStream(raw, writable: false));
            var d = new HtmlAgilityPack.HtmlDocument();
            d.LoadHtml(m.HtmlBody);
            return d.DocumentNode.ChildNodes.Count;
        }
        double Tokens()
        {
            var m = MimeKit.MimeMessage.Load(new MemoryStream(raw, writable: false));
            return setup.Tokenizer.Tokenize(m).Count;
        }
        foreach (var (name, f) in new (string, Func<double>)[] { ("parse", Parse), ("parse+html", Html), ("parse+tokenize", Tokens), ("all", Score) })
        {
            for (var i = 0; i < 1000; i++) f();
            var p0 = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = 0; i < 1000; i++) f();
            Console.WriteLine($"{name}: {(Process.GetCurrentProcess().TotalProcessorTime - p0).TotalMicroseconds / 1000:0} µs CPU");
        }
    }
    for (var i = 0; i < 2000; i++)
        Score();
    var process = Process.GetCurrentProcess();
    var rounds = new List<double>();
    const int perRound = 200;
    for (var r = 0; r < 21; r++)
    {
        process.Refresh();
        var before = process.TotalProcessorTime;
        for (var i = 0; i < perRound; i++)
            Score();
        process.Refresh();
        rounds.Add((process.TotalProcessorTime - before).TotalMicroseconds / perRound);
    }
    rounds.Sort();
    var message = MimeKit.MimeMessage.Load(new MemoryStream(raw, writable: false));
    Console.WriteLine($"scoring a {raw.Length / 1024} KB message (text and HTML, {setup.Tokenizer.Tokenize(message).Count} tokens) against {snapshot}: " +
        $"median {rounds[rounds.Count / 2]:0} µs of CPU per message (min {rounds[0]:0}, max {rounds[^1]:0}; 21 rounds of {perRound})");
    return 0;
}

// 5-fold cross-validation on the training folders only (SPAM HAM): the tuning protocol. Prints, per probability
// cut, the share of spam at or above it and of ham at or above it.
static int CrossValidate(GatewayConfig config, string spamFolder, string hamFolder)
{
    var setup = BayesSetup.Find(config) ?? throw new InvalidOperationException("no bayes filter in the configuration");
    var ignored = new List<string>();
    // BAYES_DROP: token prefixes left out (comma separated), to measure what a group of features is worth.
    var drop = (Environment.GetEnvironmentVariable("BAYES_DROP") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
    BayesMessage Read(byte[] bytes)
    {
        var m = BayesMessage.Read(new MemoryStream(bytes), setup.Tokenizer);
        return drop.Length == 0 ? m : m with { Tokens = [.. m.Tokens.Where(t => !drop.Any(d => t.Text.StartsWith(d, StringComparison.Ordinal)))] };
    }
    var messages = MailFiles.Read(spamFolder, ignored.Add).Select(f => (Spam: true, M: Read(f.Bytes), Html: (BayesMessage?)null, Source: Source(f.Bytes), File: f.Source))
        .Concat(MailFiles.Read(hamFolder, ignored.Add).Select(f => (Spam: false, M: Read(f.Bytes), Html: HtmlVersion(f.Bytes) is { } h ? Read(h) : null, Source: Source(f.Bytes), File: f.Source))).ToList();
    // BAYES_GROUP: five folds by source (the List-Id, or else the From domain), so that held-out mail comes from
    // lists and senders the classifier never learned from, as new kinds of ham (newsletters) and spam do.
    var grouped = Environment.GetEnvironmentVariable("BAYES_GROUP") is not null;
    var snapshots = new List<BayesSnapshot>();
    // BAYES_TEMPORAL: one split instead, learning the first 80% of each folder (file order) and testing the rest,
    // which is closer to the protocol (spam-2 is later spam than spam-1).
    var temporal = Environment.GetEnvironmentVariable("BAYES_TEMPORAL") is not null;
    var spamCount = messages.Count(m => m.Spam);
    int Fold(int i) => grouped ? (int)(System.IO.Hashing.XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(messages[i].Source)) % 5) : temporal ? ((i < spamCount ? i * 5 / spamCount : (i - spamCount) * 5 / (messages.Count - spamCount)) == 4 ? 0 : 1) : i % 5;
    for (var fold = 0; fold < 5; fold++)
    {
        var data = new BayesData();
        for (var i = 0; i < messages.Count; i++)
        {
            if (Fold(i) != fold)
                data.Apply(new LearnItem(messages[i].M.Digest, messages[i].Spam ? LearnKind.Spam : LearnKind.Ham, messages[i].M.TokenIds));
        }
        snapshots.Add(data.Snapshot("cv"));
    }
    var grid = Environment.GetEnvironmentVariable("BAYES_GRID") is { } g
        ? g.Split(';').Select(p => p.Split(',')).Select(p => new BayesParameters(double.Parse(p[0]), p.Length > 3 ? double.Parse(p[3]) : 0.5, double.Parse(p[1]), int.Parse(p[2]))).ToList()
        : [BayesParameters.Default];
    var show = int.TryParse(Environment.GetEnvironmentVariable("BAYES_SHOW"), out var n) ? n : 0;
    var htmlId = System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes("part:text/html".AsSpan()));
    foreach (var parameters in grid)
    {
        var results = new List<(bool Spam, double P, bool Html, int Index, BayesResult R)>();
        var htmlVersions = new List<BayesResult>();
        for (var fold = 0; fold < 5; fold++)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                if (Fold(i) == fold && (!temporal || fold == 0))
                {
                    var r = BayesClassifier.Classify(messages[i].M.Tokens, snapshots[fold], parameters, explain: 12);
                    results.Add((messages[i].Spam, r.Probability, messages[i].M.Tokens.Any(t => t.Id == htmlId), i, r));
                    if (messages[i].Html is { } html)
                        htmlVersions.Add(BayesClassifier.Classify(html.Tokens, snapshots[fold], parameters, explain: 12));
                }
            }
        }
        // BAYES_DUMP=FILE: each held-out message's file and probability, to study what other evidence could add.
        if (Environment.GetEnvironmentVariable("BAYES_DUMP") is { } dump)
            File.WriteAllLines(dump, results.Select(r => $"{(r.Spam ? "spam" : "ham")}\t{r.P:R}\t{messages[r.Index].File}"));
        var spam = results.Where(r => r.Spam).Select(r => r.P).ToList();
        var listSpam = results.Where(r => r.Spam && messages[r.Index].Source.StartsWith("list:", StringComparison.Ordinal)).Select(r => r.P).ToList();
        Console.WriteLine($"  spam from a mailing list (List-Id): {listSpam.Count(p => p >= 0.99)} of {listSpam.Count} at p >= 0.99; others {spam.Count(p => p >= 0.99) - listSpam.Count(p => p >= 0.99)} of {spam.Count - listSpam.Count}");
        var ham = results.Where(r => !r.Spam).Select(r => r.P).ToList();
        var htmlHam = results.Where(r => !r.Spam && r.Html).Select(r => r.P).ToList();
        Console.WriteLine($"{parameters}  ({spam.Count} spam, {ham.Count} ham of which {htmlHam.Count} with HTML held out)");
        foreach (var cut in new[] { 0.5, 0.7, 0.9, 0.95, 0.99, 0.999, 0.9999 })
            Console.WriteLine($"  p >= {cut,-6}: spam {100.0 * spam.Count(p => p >= cut) / spam.Count,6:0.00}%  ham {ham.Count(p => p >= cut),3}  html ham {htmlHam.Count(p => p >= cut),2}");
        // Ranking quality without a cut: the share of (spam, ham) pairs in the right order (AUC), and the mean
        // log-loss, which punishes a confident mistake the most (what hard ham meets).
        var sortedHam = ham.Order().ToArray();
        double pairs = 0;
        foreach (var p in spam)
        {
            var below = LowerBound(sortedHam, p);
            var upTo = UpperBound(sortedHam, p);
            pairs += below + 0.5 * (upTo - below);
        }
        // The held-out plain-text ham rewritten as an HTML newsletter would carry it (a table layout, fonts, links):
        // the training ham has almost no HTML, so this shows how much the classifier holds markup itself against a message.
        Console.WriteLine($"  ham as HTML ({htmlVersions.Count}): p >= 0.5 {htmlVersions.Count(r => r.Probability >= 0.5)}, >= 0.9 {htmlVersions.Count(r => r.Probability >= 0.9)}, >= 0.99 {htmlVersions.Count(r => r.Probability >= 0.99)}");
        if (show > 0)
        {
            var blameHtml = new Dictionary<string, int>();
            foreach (var r in htmlVersions.Where(r => r.Probability >= 0.5))
                foreach (var t in r.Strongest.Where(t => t.Probability > 0.9))
                    blameHtml[t.Text] = blameHtml.GetValueOrDefault(t.Text) + 1;
            Console.WriteLine("    spam-side tokens of ham as HTML at p >= 0.5: " + string.Join(", ", blameHtml.OrderByDescending(b => b.Value).Take(30).Select(b => $"{b.Key} {b.Value}")));
        }
        double LogLoss(double p, bool s) => -Math.Log(Math.Clamp(s ? p : 1 - p, 1e-6, 1));
        Console.WriteLine($"  AUC {pairs / spam.Count / ham.Count:0.00000}  log-loss spam {spam.Average(p => LogLoss(p, true)):0.000} ham {ham.Average(p => LogLoss(p, false)):0.000} html ham {(htmlHam.Count == 0 ? 0 : htmlHam.Average(p => LogLoss(p, false))):0.000}");
        if (show > 0)
        {
            // The held-out ham closest to spam and the held-out spam closest to ham, with their strongest tokens;
            // and the tokens that most often pushed held-out ham to the spam side.
            foreach (var r in results.Where(r => !r.Spam).OrderByDescending(r => r.P).Take(show).Concat(results.Where(r => r.Spam).OrderBy(r => r.P).Take(show)))
                Console.WriteLine($"    {(r.Spam ? "spam" : "ham "),-4} {r.P:0.0000} {(r.Html ? "html " : "")}{string.Join(", ", r.R.Strongest.Take(8).Select(t => $"{t.Text} {t.Probability:0.00} ({t.Spam}/{t.Ham})"))}");
            var blame = new Dictionary<string, int>();
            foreach (var r in results.Where(r => !r.Spam && r.P >= 0.01))
                foreach (var t in r.R.Strongest.Where(t => t.Probability > 0.9))
                    blame[t.Text] = blame.GetValueOrDefault(t.Text) + 1;
            Console.WriteLine("    spam-side tokens in held-out ham at p >= 0.01: " + string.Join(", ", blame.OrderByDescending(b => b.Value).Take(30).Select(b => $"{b.Key} {b.Value}")));
        }
    }
    return 0;
}

// Where a message comes from: its List-Id, or else the last two labels of its From domain.
static string Source(byte[] raw)
{
    try
    {
        var message = MimeKit.MimeMessage.Load(new MemoryStream(raw));
        if (message.Headers["List-Id"] is { Length: > 0 } list)
            return "list:" + list.Trim().ToLowerInvariant();
        var domain = message.From.Mailboxes.FirstOrDefault()?.Domain?.ToLowerInvariant() ?? "";
        var labels = domain.Split('.');
        return "from:" + string.Join('.', labels.TakeLast(2));
    }
    catch (FormatException)
    {
        return "";
    }
}

// The most frequent tokens starting with a prefix, with their spam and ham message counts.
static int Tokens(GatewayConfig config, string spamFolder, string hamFolder, string prefix)
{
    var setup = BayesSetup.Find(config)!;
    var counts = new Dictionary<string, (int Spam, int Ham)>();
    foreach (var (folder, spam) in new[] { (spamFolder, true), (hamFolder, false) })
        foreach (var f in MailFiles.Read(folder, _ => { }))
            foreach (var t in BayesMessage.Read(new MemoryStream(f.Bytes), setup.Tokenizer).Tokens.Select(t => t.Text).Where(t => t.StartsWith(prefix, StringComparison.Ordinal)).Distinct())
            {
                var c = counts.GetValueOrDefault(t);
                counts[t] = spam ? (c.Spam + 1, c.Ham) : (c.Spam, c.Ham + 1);
            }
    foreach (var (t, c) in counts.OrderByDescending(c => c.Value.Spam * 5 + c.Value.Ham).Take(60))
        Console.WriteLine($"{c.Spam,5} {c.Ham,5}  {t}");
    return 0;
}

// A plain-text message's body as HTML (table layout, font, paragraphs, links), other headers unchanged; null when
// the message is not one plain-text part.
static byte[]? HtmlVersion(byte[] raw)
{
    MimeKit.MimeMessage message;
    try
    {
        message = MimeKit.MimeMessage.Load(new MemoryStream(raw));
    }
    catch (FormatException)
    {
        return null;
    }
    if (message.Body is not MimeKit.TextPart { IsPlain: true } plain)
        return null;
    var html = new StringBuilder("<html><head><title>").Append(System.Net.WebUtility.HtmlEncode(message.Subject ?? "")).Append("</title></head><body bgcolor=\"#ffffff\">");
    html.Append("<table width=\"600\" cellpadding=\"4\" border=\"0\"><tr><td><font face=\"Arial\" size=\"2\">");
    foreach (var paragraph in (plain.Text ?? "").Split("\n\n"))
    {
        var encoded = System.Net.WebUtility.HtmlEncode(paragraph).Replace("\n", "<br>\n");
        encoded = System.Text.RegularExpressions.Regex.Replace(encoded, @"https?://[^\s<&]+", m => $"<a href=\"{m.Value}\">{m.Value}</a>");
        html.Append("<p>").Append(encoded).Append("</p>\n");
    }
    html.Append("</font></td></tr></table></body></html>");
    message.Body = new MimeKit.TextPart("html") { Text = html.ToString(), ContentTransferEncoding = MimeKit.ContentEncoding.QuotedPrintable };
    var output = new MemoryStream();
    message.WriteTo(output);
    return output.ToArray();
}

static int LowerBound(double[] sorted, double value)
{
    int lo = 0, hi = sorted.Length;
    while (lo < hi)
    {
        var mid = (lo + hi) / 2;
        if (sorted[mid] < value) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static int UpperBound(double[] sorted, double value)
{
    int lo = 0, hi = sorted.Length;
    while (lo < hi)
    {
        var mid = (lo + hi) / 2;
        if (sorted[mid] <= value) lo = mid + 1; else hi = mid;
    }
    return lo;
}

// A 50 KB multipart/alternative message: 20 KB of text and its HTML version with links and markup.
static byte[] FiftyKilobytes()
{
    var words = "offer free money account click here meeting tomorrow project report please review attached invoice price discount limited time unsubscribe newsletter update security password verify bank transfer million dollars business opportunity software release version bug fix patch list server mail".Split(' ');
    var random = new Random(7);
    var text = new StringBuilder();
    var html = new StringBuilder("<html><head><style>p{color:red}</style></head><body>");
    while (text.Length < 17_000)
    {
        var sentence = string.Join(' ', Enumerable.Range(0, 12).Select(_ => words[random.Next(words.Length)]));
        text.Append(sentence).Append(".\r\n");
        html.Append("<p><font color=\"#ff0000\">").Append(sentence).Append("</font> <a href=\"http://www.example").Append(random.Next(50)).Append(".com/path/").Append(words[random.Next(words.Length)]).Append("\">link</a></p>\r\n");
    }
    html.Append("</body></html>");
    var message = $"From: Sender <sender@example.net>\r\nTo: user@example.test\r\nSubject: Monthly update and offer\r\nMessage-ID: <1234.5678@example.net>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n--b1\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}\r\n--b1--\r\n";
    return Encoding.ASCII.GetBytes(message);
}
