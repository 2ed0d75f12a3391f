// Look-alike and HTML smuggling detection (BenchmarkDotNet): checking the link hosts of a message against protected
// domains, and scanning HTML documents: a 60 KB newsletter, a smuggling page, and a hostile 16 MB page (one huge
// script and a million nested tags). The documents are generated here, as the tests' samples are.
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gateway.Detection;

BenchmarkSwitcher.FromTypes([typeof(Lookalikes), typeof(Smuggling)]).Run(args);

[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class Lookalikes
{
    private LookalikeDetector _detector = null!;
    private string[] _hosts = [];

    [Params(1, 100)]
    public int Protected { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var brands = new List<string> { "paypal.com", "microsoft.com", "example.test" };
        for (var i = brands.Count; i < Protected; i++)
            brands.Add($"brand{i}example.com");
        _detector = new LookalikeDetector(brands.Take(Protected));
        // 100 link hosts as a newsletter has them: trackers, CDNs, the sender's own, a few look-alikes.
        _hosts = [.. Enumerable.Range(0, 100).Select(i => (i % 10) switch
        {
            0 => $"click{i}.mail.sender{i}.test",
            1 => "www.paypa1.com",
            2 => $"cdn{i}.akamaized.net",
            3 => "xn--pypal-4ve.com",
            _ => $"www.shop{i}.example.co.uk",
        })];
    }

    [Benchmark(Description = "check 100 link hosts")]
    public int Check()
    {
        var found = 0;
        foreach (var host in _hosts)
        {
            if (_detector.Check(host) is not null)
                found++;
        }
        return found;
    }
}

[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class Smuggling
{
    private string _newsletter = "", _kit = "", _hostile = "";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var image = new byte[20_000];
        random.NextBytes(image);
        var newsletter = new StringBuilder("<html><body><table width=\"600\">");
        newsletter.Append("<tr><td><img src=\"data:image/png;base64,").Append(Convert.ToBase64String(image)).Append("\"></td></tr>");
        for (var i = 0; i < 150; i++)
            newsletter.Append($"<tr><td style=\"font-family:Arial;padding:8px\"><a href=\"https://click.sender.test/{i}?u=abc\">Article {i}</a>: a paragraph of text that a reader would see, with a <b>bold</b> word.</td></tr>");
        _newsletter = newsletter.Append("</table></body></html>").ToString();
        var payload = new byte[200_000];
        random.NextBytes(payload);
        _kit = $"<html><body><script>var b='{Convert.ToBase64String(payload)}';var blob=new Blob([Uint8Array.from(atob(b),c=>c.charCodeAt(0))]);var a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='invoice.iso';a.click();</script></body></html>";
        var hostile = new StringBuilder("<script>var x='").Append('A', 8 * 1024 * 1024).Append("';</script>");
        for (var i = 0; i < 1_000_000; i++)
            hostile.Append("<div>");
        _hostile = hostile.ToString();
    }

    [Benchmark(Description = "newsletter, 60 KB")]
    public string? Newsletter() => HtmlSmugglingScanner.Scan(_newsletter, false);

    [Benchmark(Description = "smuggling kit, 270 KB")]
    public string? Kit() => HtmlSmugglingScanner.Scan(_kit, false);

    [Benchmark(Description = "hostile page, 16 MB")]
    public string? Hostile() => HtmlSmugglingScanner.Scan(_hostile, false);
}
