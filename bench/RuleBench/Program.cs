// Rule-evaluation benchmark (BenchmarkDotNet): N generated rules (every matcher kind, an eighth of them regexes over
// the body) evaluated at the end of DATA on a 51 KB message with attachments (a PDF, a zip holding two files, an
// HTML part), the way a session does it: a fresh FilterContext each time, so MIME parsing and zip inspection count.
using System.IO.Compression;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

BenchmarkRunner.Run<RuleEvaluation>(args: args);

[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class RuleEvaluation
{
    private string _dir = "";
    private GatewayConfig _config = null!;
    private GatewaySnapshot _snapshot = null!;
    private byte[] _message = [];

    [Params(100, 1000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("rulebench-").FullName;
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), Generated.Rules(Rules));
        File.WriteAllText(Path.Combine(_dir, "gateway.yaml"), "relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [rules.yaml] }\n");
        var load = ConfigLoader.LoadFile(Path.Combine(_dir, "gateway.yaml"));
        if (!load.IsValid)
            throw new InvalidOperationException(string.Join("\n", load.Errors));
        _config = load.Config!;
        _snapshot = GatewaySnapshot.Build(_config, NullLogger.Instance);
        _message = Generated.Message();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Description = "data phase, 51 KB message with attachments")]
    public async Task<double> Evaluate()
    {
        var session = new SessionState("B", _config, new IPEndPoint(IPAddress.Parse("198.51.100.7"), 1), new IPEndPoint(IPAddress.Loopback, 25), _snapshot.Pipeline) { Helo = "mail.sender.test" };
        session.BeginTransaction(new SmtpPath("alice", "sender.test", false, false, false, false), new Dictionary<string, string?>());
        session.Recipients.Add(new SmtpPath("bob", "example.test", false, false, false, false));
        using var spool = new MessageSpool();
        spool.Write(_message);
        var verdict = await _snapshot.Pipeline.RunAsync(new FilterContext(Phase.Data, session) { Message = spool }, session.Evaluation, default);
        if (verdict is { IsFinal: true })
            throw new InvalidOperationException($"unexpected verdict {verdict.Kind} by {verdict.Source}");
        return session.Evaluation.Score;
    }
}

public static class Generated
{
    public static string Rules(int n)
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

    public static byte[] Message()
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
}
