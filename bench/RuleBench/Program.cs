// Rule-evaluation benchmark: N generated rules (every matcher kind, half of them regexes) evaluated at the end of
// DATA on a 50 KB message with attachments (a PDF, a zip holding two files, an HTML part), the way a session does
// it (a fresh FilterContext each time, so MIME parsing and zip inspection are counted). Stopwatch timing after a
// warm-up, medians and percentiles over many runs: BenchmarkDotNet is not in this machine's package feed.
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Smtp;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

var ruleCount = args.Length > 0 ? int.Parse(args[0]) : 1000;
var iterations = args.Length > 1 ? int.Parse(args[1]) : 300;
var dir = Directory.CreateTempSubdirectory("rulebench-").FullName;
try
{
    File.WriteAllText(Path.Combine(dir, "rules.yaml"), Rules(ruleCount));
    File.WriteAllText(Path.Combine(dir, "gateway.yaml"), "relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [rules.yaml] }\n");
    var load = ConfigLoader.LoadFile(Path.Combine(dir, "gateway.yaml"));
    if (!load.IsValid)
        throw new InvalidOperationException(string.Join("\n", load.Errors));
    var config = load.Config!;
    var snapshot = GatewaySnapshot.Build(config, NullLogger.Instance);
    var message = Message();
    Console.WriteLine($"{ruleCount} rules ({config.Rules.Set.Rules.Count(r => r.Phase == Phase.Data)} at data), message {message.Length / 1024} KB, {iterations} runs");

    var times = new List<double>();
    double score = 0;
    for (var i = 0; i < iterations + 50; i++)
    {
        var session = new SessionState("B", config, new IPEndPoint(IPAddress.Parse("198.51.100.7"), 1), new IPEndPoint(IPAddress.Loopback, 25), snapshot.Pipeline) { Helo = "mail.sender.test" };
        session.BeginTransaction(new SmtpPath("alice", "sender.test", false, false, false, false), new Dictionary<string, string?>());
        session.Recipients.Add(new SmtpPath("bob", "example.test", false, false, false, false));
        using var spool = new MessageSpool();
        spool.Write(message);
        session.Message = spool;
        var started = Stopwatch.GetTimestamp();
        var verdict = await snapshot.Pipeline.RunAsync(new FilterContext(Phase.Data, session) { Message = spool }, session.Evaluation, default);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (verdict is { IsFinal: true })
            throw new InvalidOperationException($"unexpected verdict {verdict.Kind} by {verdict.Source}");
        if (i >= 50)
            times.Add(elapsed);
        score = session.Evaluation.Score;
        session.Message = null;
    }
    times.Sort();
    double P(double q) => times[(int)Math.Min(times.Count - 1, q * times.Count)];
    Console.WriteLine($"evaluation per message: median {P(0.5):0.00} ms, p90 {P(0.9):0.00} ms, p99 {P(0.99):0.00} ms, max {times[^1]:0.00} ms (score {score})");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static string Rules(int n)
{
    var text = new StringBuilder("rules:\n");
    for (var i = 0; i < n; i++)
    {
        var match = (i % 8) switch
        {
            0 => $"{{ subject: {{ regex: \"(free|cheap)\\\\s+offer{i}\" }} }}",
            1 => $"{{ body: {{ regex: \"wire\\\\s+transfer\\\\s+#{i}\\\\b\" }} }}",
            2 => $"{{ header: {{ name: X-Campaign, regex: \"^id-{i}$\" }} }}",
            3 => $"{{ attachment: {{ name: {{ glob: \"*.{i}x\" }} }} }}",
            4 => $"{{ url: {{ domain: spam{i}.test }} }}",
            5 => $"{{ mail_from: {{ domain: sender{i}.test }} }}",
            6 => $"{{ all: [ {{ rcpt_to: {{ exact: user{i}@example.test }} }}, {{ size: {{ min: 1KB }} }} ] }}",
            _ => $"{{ any: [ {{ subject: {{ glob: \"*lottery {i}*\" }} }}, {{ attachment: {{ sniffed: [elf], extension: [x{i}] }} }} ] }}",
        };
        text.Append($"  - id: r{i}\n    phase: data\n    match: {match}\n    score: 1\n");
    }
    return text.ToString();
}

static byte[] Message()
{
    var random = new Random(7);
    var words = string.Join(" ", Enumerable.Range(0, 2200).Select(i => $"word{random.Next(100_000)}"));
    using var zip = new MemoryStream();
    using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
    {
        foreach (var (name, size) in new[] { ("report.txt", 8000), ("data.csv", 6000) })
        {
            using var s = archive.CreateEntry(name).Open();
            s.Write(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, size / 8).Select(_ => $"{random.Next(10_000_000):D7},"))));
        }
    }
    var builder = new BodyBuilder
    {
        TextBody = words,
        HtmlBody = $"<html><body><p>{words[..4000]}</p><a href=\"https://www.example.test/page\">link</a></body></html>",
    };
    builder.Attachments.Add("statement.pdf", [.. "%PDF-1.4\n"u8, .. new byte[12_000]], new ContentType("application", "pdf"));
    builder.Attachments.Add("files.zip", zip.ToArray(), new ContentType("application", "zip"));
    var message = new MimeMessage { Subject = "Quarterly figures", Body = builder.ToMessageBody() };
    message.From.Add(MailboxAddress.Parse("alice@sender.test"));
    message.To.Add(MailboxAddress.Parse("bob@example.test"));
    message.Headers.Add("X-Campaign", "none");
    using var output = new MemoryStream();
    message.WriteTo(output);
    return output.ToArray();
}
