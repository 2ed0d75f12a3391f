using System.Text;
using Gateway.Detection;
using Gateway.Tests.Support;

namespace Gateway.Tests.Detection;

public class HtmlSmugglingScannerTests
{
    /// <summary>A sample from TestData/smuggling with its placeholders filled: a payload and an embedded image.</summary>
    internal static string Sample(string file, int payloadBytes = 6000)
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "smuggling", file));
        return text.Replace("@@PAYLOAD@@", Base64(payloadBytes, seed: 1)).Replace("@@IMAGE@@", Base64(9000, seed: 2));
    }

    internal static string Base64(int bytes, int seed)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        return Convert.ToBase64String(data);
    }

    [Theory]
    [InlineData("blob-mssaveblob.html", false, "script saves a file it built with msSaveOrOpenBlob")]
    [InlineData("data-uri-download.html", false, "a 3.9 KB data:application/x-zip-compressed link with a download attribute \"Statement_Q3.zip\"")]
    [InlineData("svg-script.svg", true, "script in an SVG image")]
    [InlineData("atob-page.html", false, "script decodes a 4000-character base64 string with atob")]
    public void Smuggling_pages_are_found_with_evidence(string file, bool svg, string evidence) =>
        Assert.Equal(evidence, HtmlSmugglingScanner.Scan(Sample(file, 3000), svg));

    [Theory]
    [InlineData("newsletter-shop.html")]
    [InlineData("newsletter-digest.html")] // names new Blob, createObjectURL and download in its prose, has a download link
    public void Newsletters_are_clean(string file) =>
        Assert.Null(HtmlSmugglingScanner.Scan(Sample(file), isSvg: false));

    [Fact]
    public void A_blob_built_without_msSaveBlob_is_found_with_the_file_name()
    {
        var page = Sample("blob-mssaveblob.html").Replace("if (window.navigator && window.navigator.msSaveOrOpenBlob) {\n      window.navigator.msSaveOrOpenBlob(blob, name);\n    } else ", "");
        Assert.DoesNotContain("msSave", page);
        Assert.Equal("script builds a file with new Blob and URL.createObjectURL and offers it for download", HtmlSmugglingScanner.Scan(page, false));
        Assert.Equal("script builds a file with new Blob and URL.createObjectURL and offers it for download \"Q3.iso\"",
            HtmlSmugglingScanner.Scan(page.Replace("a.download = name;", "a.download = 'Q3.iso';"), false));
    }

    [Fact]
    public void Code_in_an_event_handler_counts_as_code()
    {
        var page = $"<html><body><img src=x onerror=\"var b=new Blob([atob('{Base64(300, 3)}')]);location=URL.createObjectURL(b)\"></body></html>";
        Assert.Equal("script builds a file with new Blob and URL.createObjectURL", HtmlSmugglingScanner.Scan(page, false));
    }

    [Fact]
    public void A_payload_hidden_in_a_text_node_and_decoded_by_script_is_found()
    {
        var page = $"<div id=p style=display:none>{Base64(3000, 4)}</div><script>document.write(atob(document.getElementById('p').textContent))</script>";
        Assert.Equal("script decodes a 4000-character base64 string with atob", HtmlSmugglingScanner.Scan(page, false));
    }

    [Fact]
    public void An_svg_image_without_script_is_clean()
    {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"red\"/><text>download the script</text></svg>";
        Assert.Null(HtmlSmugglingScanner.Scan(svg, isSvg: true));
        Assert.Null(HtmlSmugglingScanner.Scan(Sample("svg-script.svg"), isSvg: false)); // an HTML page may have scripts
    }

    [Fact]
    public void A_short_data_link_or_an_image_data_link_with_download_is_clean()
    {
        Assert.Null(HtmlSmugglingScanner.Scan("<a href=\"data:text/plain;base64,aGVsbG8=\" download=\"hello.txt\">x</a>", false));
        Assert.Null(HtmlSmugglingScanner.Scan($"<a href=\"data:image/png;base64,{Base64(20000, 5)}\" download=\"chart.png\">chart</a>", false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(250)]
    [InlineData(300)]
    public void Findings_across_chunk_boundaries_are_not_lost(int shift)
    {
        // Place each marker so that it straddles the first 64 K boundary at several offsets.
        foreach (var marker in new[] { "<script>navigator.msSaveOrOpenBlob(b)</script>", "<a download=\"x.iso\" href=\"data:application/octet-stream;base64," + Base64(1000, 6) + "\">" })
        {
            var padding = new string(' ', 64 * 1024 - 20 + shift);
            Assert.NotNull(HtmlSmugglingScanner.Scan("<p>hi</p>" + padding + marker, false));
        }
    }

    [Fact]
    public void Hostile_input_is_read_in_constant_memory()
    {
        // 16 MB: one huge script of base64 noise, and a million nested tags.
        var huge = new StringBuilder("<script>var x='");
        huge.Append('A', 8 * 1024 * 1024).Append("';</script>");
        for (var i = 0; i < 1_000_000; i++)
            huge.Append("<div>");
        var text = huge.ToString();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var evidence = HtmlSmugglingScanner.Scan(new StringReader(text), false);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("script with a 8388608-character base64 string", evidence);
        Assert.True(allocated < 2 * 1024 * 1024, $"{allocated} bytes allocated for a {text.Length}-character document");
    }
}
