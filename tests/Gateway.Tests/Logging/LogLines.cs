using System.Collections.Concurrent;
using System.Text;

namespace Gateway.Tests.Logging;

/// <summary>A writer for the gateway's logger provider that tests can wait on, line by line.</summary>
public sealed class WatchedWriter : TextWriter
{
    private readonly ConcurrentQueue<string> _lines = new();
    private event Action<string>? Written;

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines => [.. _lines];

    public override void WriteLine(string? value)
    {
        _lines.Enqueue(value ?? "");
        Written?.Invoke(value ?? "");
    }

    public override void Write(char value) => throw new NotSupportedException("the provider writes whole lines");

    public Task<string> WaitForAsync(Func<string, bool> match)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(string line)
        {
            if (match(line))
                tcs.TrySetResult(line);
        }
        Written += Handler;
        foreach (var line in _lines)
        {
            if (match(line))
                tcs.TrySetResult(line);
        }
        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }
}

/// <summary>A strict reader of the text format's key=value and key="escaped" fields, as a log tool would parse them.</summary>
public static class LogFields
{
    public static List<(string Key, string Value)> Parse(string line)
    {
        var fields = new List<(string, string)>();
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ')
                i++;
            var start = i;
            while (i < line.Length && line[i] is not (' ' or '=' or '"'))
                i++;
            if (i >= line.Length || line[i] != '=')
            {
                // a bare word (the event name, "transaction"); a quote here would be a broken field
                Assert.True(i >= line.Length || line[i] == ' ', $"unexpected quote at {i} in {line}");
                continue;
            }
            var key = line[start..i];
            i++;
            var value = new StringBuilder();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    Assert.True(i < line.Length, $"unterminated value of {key} in {line}");
                    var c = line[i++];
                    if (c == '"')
                        break;
                    if (c != '\\')
                    {
                        value.Append(c);
                        continue;
                    }
                    var e = line[i++];
                    switch (e)
                    {
                        case 'r': value.Append('\r'); break;
                        case 'n': value.Append('\n'); break;
                        case 't': value.Append('\t'); break;
                        case '0': value.Append('\0'); break;
                        case 'x': value.Append((char)Convert.ToInt32(line.Substring(i, 2), 16)); i += 2; break;
                        case 'u':
                            var close = line.IndexOf('}', i);
                            value.Append((char)Convert.ToInt32(line[(i + 1)..close], 16));
                            i = close + 1;
                            break;
                        default: value.Append(e); break;
                    }
                }
                Assert.True(i >= line.Length || line[i] == ' ', $"a field does not end after the value of {key} in {line}");
            }
            else
            {
                while (i < line.Length && line[i] != ' ')
                    value.Append(line[i++]);
            }
            fields.Add((key, value.ToString()));
        }
        return fields;
    }
}
