using System.Text;
using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public class ForgedHeadersTests
{
    private static string Strip(string message, params string[] names)
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes(message));
        using var result = ForgedHeaders.Remove(source, names);
        result.Position = 0;
        using var copy = new MemoryStream();
        result.CopyTo(copy);
        Assert.Equal(copy.Length, result.Length);
        return Encoding.ASCII.GetString(copy.ToArray());
    }

    [Fact]
    public void Removes_every_occurrence_with_its_folded_lines_and_keeps_the_rest_byte_for_byte()
    {
        var message = "From: a@b.test\r\nx-gateway-score: -100\r\nSubject: hi\r\nX-Gateway-Symbols: FAKE,\r\n\tMORE\r\nX-Gateway-Score : 5\r\n\r\nX-Gateway-Score: in the body stays\r\n";
        Assert.Equal("From: a@b.test\r\nSubject: hi\r\n\r\nX-Gateway-Score: in the body stays\r\n", Strip(message, "X-Gateway-Score", "X-Gateway-Symbols"));
    }

    [Fact]
    public void Returns_the_message_itself_when_there_is_nothing_to_remove()
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes("From: a@b.test\r\n\r\nbody\r\n"));
        Assert.Same(source, ForgedHeaders.Remove(source, ["X-Gateway-Score"]));
    }

    [Fact]
    public void Looks_past_the_first_chunk_for_the_end_of_a_large_header_block()
    {
        var filler = string.Concat(Enumerable.Range(0, 400).Select(i => $"X-Filler-{i}: {new string('f', 60)}\r\n"));
        var message = filler + "X-Gateway-Score: 99\r\n\r\nbody\r\n";
        Assert.Equal(filler + "\r\nbody\r\n", Strip(message, "X-Gateway-Score"));
    }

    [Fact]
    public void Prefixes_the_subject_keeping_its_folded_lines()
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes("From: a@b.test\r\nSubject:  Cheap\r\n pills\r\nSubject: second\r\n\r\nbody\r\n"));
        using var result = ForgedHeaders.Remove(source, ["X-Gateway-Score"], "[SPAM] ");
        using var copy = new MemoryStream();
        result.CopyTo(copy);
        Assert.Equal("From: a@b.test\r\nSubject: [SPAM] Cheap\r\n pills\r\nSubject: second\r\n\r\nbody\r\n", Encoding.ASCII.GetString(copy.ToArray()));
    }

    [Fact]
    public void Adds_a_subject_when_there_is_none()
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes("From: a@b.test\r\n\r\nbody\r\n"));
        using var result = ForgedHeaders.Remove(source, [], "[SPAM] ");
        using var copy = new MemoryStream();
        result.CopyTo(copy);
        Assert.Equal("From: a@b.test\r\nSubject: [SPAM]\r\n\r\nbody\r\n", Encoding.ASCII.GetString(copy.ToArray()));
    }

    private static string StripResults(string message, string authservId)
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes(message));
        using var result = ForgedHeaders.Remove(source, [], authservId: authservId);
        using var copy = new MemoryStream();
        result.CopyTo(copy);
        return Encoding.ASCII.GetString(copy.ToArray());
    }

    [Theory]
    [InlineData("Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=a.test\r\n")]
    [InlineData("authentication-results: MX.Example.TEST; dkim=pass\r\n")]
    [InlineData("Authentication-Results:\r\n\tmx.example.test;\r\n\tdmarc=pass\r\n")]
    [InlineData("Authentication-Results: (forged (nested) comment)\r\n mx.example.test; dmarc=pass\r\n")]
    [InlineData("Authentication-Results: \"mx.example.test\"; dmarc=pass\r\n")]
    [InlineData("Authentication-Results: mx.example.test 1; none\r\n")]
    [InlineData("ARC-Authentication-Results: i=1; mx.example.test; arc=pass\r\n")]
    [InlineData("ARC-Authentication-Results: i=2;\r\n (c) MX.EXAMPLE.TEST; dkim=pass\r\n")]
    public void Removes_authentication_results_claiming_our_authserv_id(string forged)
    {
        var message = "From: a@b.test\r\n" + forged + "Subject: hi\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n";
        Assert.Equal("From: a@b.test\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n", StripResults(message, "mx.example.test"));
    }

    [Theory]
    [InlineData("Authentication-Results: mx.example.test.evil; spf=pass\r\n")]
    [InlineData("Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=mx.example.test\r\n")]
    [InlineData("ARC-Authentication-Results: i=1; lists.example.org; arc=none\r\n")]
    [InlineData("X-Authentication-Results: mx.example.test; spf=pass\r\n")]
    public void Keeps_other_servers_results(string header)
    {
        var message = "From: a@b.test\r\n" + header + "\r\nbody\r\n";
        Assert.Equal(message, StripResults(message, "mx.example.test"));
    }
}
