using System.Text;

namespace Gateway.Detection.Bayes;

/// <summary>One message read from a file: where it came from (file, and number in an mbox) and its bytes.</summary>
public sealed record MailFile(string Source, byte[] Bytes);

/// <summary>
/// The messages under a path: a message file (.eml or any file that starts with a header line), an mbox (a file
/// whose first line is an mbox "From " line, split at each "From " line after an empty line, "&gt;From " lines
/// unescaped as mboxrd), or a directory of them, recursively in name order. Files that are neither (a .json
/// beside each message, an index) are counted as skipped. The mbox "From " line is not part of the message.
/// </summary>
public static class MailFiles
{
    /// <summary>Messages larger than this are skipped (a learn run reads each one whole).</summary>
    public const int MaxMessageBytes = 32 << 20;

    public static IEnumerable<MailFile> Read(string path, Action<string> skipped)
    {
        if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden })
                .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                foreach (var message in ReadFile(file, skipped))
                    yield return message;
            }
        }
        else
        {
            foreach (var message in ReadFile(path, skipped))
                yield return message;
        }
    }

    private static IEnumerable<MailFile> ReadFile(string file, Action<string> skipped)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            skipped($"{file}: {e.Message}");
            yield break;
        }
        using (stream)
        {
            var first = ReadLine(stream);
            if (first is null || !(StartsWith(first, "From ") || LooksLikeHeader(first)))
            {
                skipped($"{file}: not a message");
                yield break;
            }
            if (!StartsWith(first, "From "))
            {
                if (stream.Length > MaxMessageBytes)
                {
                    skipped($"{file}: larger than {MaxMessageBytes} bytes");
                    yield break;
                }
                var whole = new byte[stream.Length];
                stream.Position = 0;
                stream.ReadExactly(whole);
                yield return new MailFile(file, whole);
                yield break;
            }
            // An mbox: messages start after "From " lines that follow an empty line (or the start of the file).
            var current = new MemoryStream();
            var number = 1;
            var previousEmpty = true;
            var tooBig = false;
            byte[]? line;
            while ((line = ReadLine(stream)) is not null)
            {
                if (previousEmpty && StartsWith(line, "From "))
                {
                    if (Finish(current, tooBig, file, number, skipped) is { } message)
                        yield return message;
                    number++;
                    current = new MemoryStream();
                    tooBig = false;
                    previousEmpty = false;
                    continue;
                }
                previousEmpty = line.Length == 0 || line is [(byte)'\r'] || line is [(byte)'\n'] || line is [(byte)'\r', (byte)'\n'];
                if (tooBig)
                    continue;
                var start = 0;
                // mboxrd: ">From " (any number of '>') lost one '>' when it was written.
                var gt = 0;
                while (gt < line.Length && line[gt] == '>')
                    gt++;
                if (gt > 0 && line.AsSpan(gt).StartsWith("From "u8))
                    start = 1;
                current.Write(line, start, line.Length - start);
                tooBig = current.Length > MaxMessageBytes;
            }
            if (Finish(current, tooBig, file, number, skipped) is { } last)
                yield return last;
        }
    }

    private static MailFile? Finish(MemoryStream current, bool tooBig, string file, int number, Action<string> skipped)
    {
        if (tooBig)
        {
            skipped($"{file} #{number}: larger than {MaxMessageBytes} bytes");
            return null;
        }
        return current.Length == 0 ? null : new MailFile(number == 1 ? file : $"{file} #{number}", current.ToArray());
    }

    private static bool StartsWith(byte[] line, string prefix) => line.AsSpan().StartsWith(Encoding.ASCII.GetBytes(prefix));

    /// <summary>A header field name as mail uses them (letters, digits, '-' and '_') then ':'.</summary>
    private static bool LooksLikeHeader(byte[] line)
    {
        var colon = line.AsSpan().IndexOf((byte)':');
        if (colon <= 0)
            return false;
        foreach (var b in line.AsSpan(0, colon))
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_'))
                return false;
        }
        return true;
    }

    /// <summary>The next line with its line end, or null at the end of the stream.</summary>
    private static byte[]? ReadLine(Stream stream)
    {
        var line = new MemoryStream();
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            line.WriteByte((byte)b);
            if (b == '\n')
                break;
        }
        return line.Length == 0 && b < 0 ? null : line.ToArray();
    }
}
