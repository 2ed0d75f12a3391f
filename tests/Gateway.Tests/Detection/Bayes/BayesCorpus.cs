using System.Text;

namespace Gateway.Tests.Detection.Bayes;

/// <summary>
/// A small corpus the tests build themselves: spam about offers and pills from throwaway domains, ham about a
/// software project from a mailing list, both sharing everyday words. Deterministic (seeded).
/// </summary>
public static class BayesCorpus
{
    private static readonly string[] Common = "the and for you this with have from that will your are our about more time today".Split(' ');
    private static readonly string[] SpamWords = "free offer winner cash prize viagra cheap pills discount limited guaranteed unsubscribe casino loan credit urgent claim bonus".Split(' ');
    private static readonly string[] HamWords = "patch review build release branch commit meeting agenda minutes tests compiler kernel merge changelog deadline roadmap".Split(' ');

    public static string Spam(int i, int seed = 1) => Message(i, seed, spam: true);

    public static string Ham(int i, int seed = 2) => Message(i, seed, spam: false);

    private static string Message(int i, int seed, bool spam)
    {
        var random = new Random(seed * 100_000 + i);
        string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ =>
            random.Next(3) == 0 ? Common[random.Next(Common.Length)] : Pick(spam ? SpamWords : HamWords)));
        string Pick(string[] words) => words[random.Next(words.Length)];
        var from = spam ? $"deals{random.Next(1000)}@promo{random.Next(50)}.example" : $"dev{random.Next(20)}@project.example";
        var subject = Words(4);
        var body = spam
            ? $"<html><body><p><font color=red>{Words(30)}</font></p><a href=\"http://click{random.Next(20)}.example/win?id={i}\">{Words(3)}</a></body></html>"
            : $"{Words(40)}\r\n\r\nhttps://git.project.example/commit/{i}\r\n-- \r\nlist footer\r\n";
        var type = spam ? "text/html" : "text/plain";
        var list = spam ? "" : "List-Id: <dev.project.example>\r\n";
        return $"From: {from}\r\nTo: bob@example.test\r\nSubject: {subject}\r\nMessage-ID: <{i}.{seed}.{(spam ? "s" : "h")}@{from.Split('@')[1]}>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n{list}MIME-Version: 1.0\r\nContent-Type: {type}; charset=us-ascii\r\n\r\n{body}\r\n";
    }

    /// <summary>Writes <paramref name="count"/> messages as .eml files into a new directory (with a .json beside each, as the public corpus).</summary>
    public static string WriteDirectory(string root, string name, int count, bool spam)
    {
        var directory = Path.Combine(root, name);
        Directory.CreateDirectory(directory);
        for (var i = 0; i < count; i++)
        {
            File.WriteAllText(Path.Combine(directory, $"{i:00000}.eml"), spam ? Spam(i) : Ham(i));
            File.WriteAllText(Path.Combine(directory, $"{i:00000}.json"), "{\"id\": 1}");
        }
        return directory;
    }

    /// <summary>Writes the messages into one mbox file ("From " lines, a body line starting "From " escaped).</summary>
    public static string WriteMbox(string root, string name, int count, bool spam)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var message = (spam ? Spam(i) : Ham(i)).Replace("\r\n", "\n", StringComparison.Ordinal);
            text.Append("From sender@example.net Mon Dec  7 10:00:00 2026\n").Append(message.Replace("\nFrom ", "\n>From ", StringComparison.Ordinal)).Append('\n');
        }
        var path = Path.Combine(root, name);
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
