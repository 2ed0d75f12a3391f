using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Tracking;
using Microsoft.Extensions.Logging;

namespace Gateway.Logging;

/// <summary>Turns one log event into one line of output.</summary>
public interface ILogFormatter
{
    string Format<TState>(DateTimeOffset time, LogLevel level, string category, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter);
}

public static class LogLevels
{
    public static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}

/// <summary>
/// <c>2026-12-07T08:00:00.000Z info gateway: transaction id=…</c>: always one line (controls in any message escaped;
/// an exception as its type and message, quoted, without a stack trace).
/// </summary>
public sealed class TextLogFormatter : ILogFormatter
{
    public string Format<TState>(DateTimeOffset time, LogLevel level, string category, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var sb = new StringBuilder(256);
        sb.Append(time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(' ')
            .Append(LogLevels.Name(level)).Append(' ').Append(category).Append(": ");
        sb.Append(state is TransactionLogEntry ? formatter(state, null) : LogText.OneLine(formatter(state, null)));
        if (exception is not null)
        {
            sb.Append(" exception=");
            LogText.AppendQuoted(sb, $"{exception.GetType().Name}: {exception.Message}");
        }
        return sb.ToString();
    }
}

/// <summary>
/// One JSON object per line: time, level, category, event, message, and the event's fields as properties (no
/// <c>{OriginalFormat}</c>). A transaction is written as structured fields: recipients as an array of objects with
/// their own outcome, symbols as objects. Readable characters (&lt;, &quot;, non-ASCII) stay as they are, escaped
/// only where JSON requires it.
/// </summary>
public sealed class JsonLogFormatter : ILogFormatter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    public string Format<TState>(DateTimeOffset time, LogLevel level, string category, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteString("level", LogLevels.Name(level));
            w.WriteString("category", category);
            if (eventId.Id != 0)
                w.WriteString("event", eventId.Name ?? eventId.Id.ToString(CultureInfo.InvariantCulture));
            if (state is TransactionLogEntry entry)
                WriteTransaction(w, entry.Record);
            else
            {
                w.WriteString("message", formatter(state, null));
                if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
                {
                    foreach (var (key, value) in fields)
                    {
                        if (key == "{OriginalFormat}" || key is "time" or "level" or "category" or "event" or "message")
                            continue;
                        WriteValue(w, ToSnakeCase(key), value);
                    }
                }
            }
            if (exception is not null)
            {
                w.WriteString("exception", exception.GetType().FullName);
                w.WriteString("exception_message", exception.Message);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteTransaction(Utf8JsonWriter w, TransactionRecord r)
    {
        w.WriteString("id", r.Id);
        w.WriteString("session", r.SessionId);
        w.WriteString("outcome", TransactionLog.OutcomeName(r.Outcome));
        w.WriteString("by", r.DecidedBy);
        WriteReply(w, "reply", r.Reply);
        w.WriteString("client", r.ClientAddress);
        if (r.ClientName is not null)
            w.WriteString("client_name", r.ClientName);
        w.WriteString("helo", r.Helo);
        w.WriteString("tls", r.Tls);
        w.WriteString("from", r.Sender);
        w.WriteStartArray("recipients");
        foreach (var rcpt in r.Recipients)
        {
            w.WriteStartObject();
            w.WriteString("address", rcpt.Address);
            w.WriteBoolean("accepted", rcpt.Accepted);
            w.WriteString("outcome", TransactionLog.OutcomeName(rcpt.Outcome));
            WriteReply(w, "reply", rcpt.Reply);
            if (rcpt.RefusedBy is not null)
                w.WriteString("by", rcpt.RefusedBy);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("message_id", r.MessageId);
        w.WriteString("subject", r.Subject);
        w.WriteNumber("size", r.Size);
        w.WriteNumber("score", r.Score);
        w.WriteStartArray("symbols");
        foreach (var s in r.Symbols)
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteNumber("score", s.Score);
            if (s.Detail is not null)
                w.WriteString("detail", s.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("rules", r.RuleSet);
        if (r.Route is not null)
            w.WriteString("route", r.Route);
        w.WriteString("upstream", r.Upstream);
        w.WriteString("auth", r.Auth);
        w.WriteNumber("dns", r.DnsQueries);
        w.WriteNumber("duration_ms", (long)r.Duration.TotalMilliseconds);
        if (r.QuarantineId is not null)
            w.WriteString("quarantine_id", r.QuarantineId);
    }

    private static void WriteReply(Utf8JsonWriter w, string name, Reply reply)
    {
        if (reply.Code == 0)
            w.WriteNull(name);
        else
            w.WriteString(name, reply.ToString());
    }

    private static void WriteValue(Utf8JsonWriter w, string key, object? value)
    {
        switch (value)
        {
            case null: w.WriteNull(key); break;
            case bool b: w.WriteBoolean(key, b); break;
            case int i: w.WriteNumber(key, i); break;
            case long l: w.WriteNumber(key, l); break;
            case double d when double.IsFinite(d): w.WriteNumber(key, d); break;
            case TimeSpan t: w.WriteNumber(key, (long)t.TotalMilliseconds); break;
            default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>"SessionId" → "session_id": the same names as the text format's keys.</summary>
    private static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_')
                    sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
                sb.Append(c);
        }
        return sb.ToString();
    }
}
