using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// A fragment of HTML that is safe to write as it is. Made only by <see cref="Html.Of"/>, whose interpolation
/// holes are HTML-encoded unless they are themselves <see cref="Html"/>: encoding is what happens unless a page says
/// otherwise, so a value a sender controls (Subject, addresses, attachment names, HELO) cannot become markup.
/// Characters that change how text looks without being seen (controls, bidi overrides, zero-width marks) are shown
/// as visible escapes (\u{202e}), as in the log.
/// </summary>
public readonly struct Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly string? _value;

    private Html(string value) => _value = value;

    public static readonly Html Empty = new("");

    public static Html Of(ref Builder builder) => new(builder.ToString());

    /// <summary>Markup the page itself wrote (never a value from outside).</summary>
    public static Html Raw(string markup) => new(markup);

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.ToString())));

    public static Html Join<T>(IEnumerable<T> items, Func<T, Html> render) => Join(items.Select(render));

    /// <summary><paramref name="text"/> encoded; line breaks kept as they are (for a &lt;pre&gt;).</summary>
    public static Html Text(string? text, bool keepLines = false)
    {
        if (string.IsNullOrEmpty(text))
            return Empty;
        var visible = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogatePair(text, i))
                visible.Append(c).Append(text[++i]);
            else if (keepLines && c is '\n' or '\t')
                visible.Append(c);
            else if (keepLines && c == '\r')
                continue;
            else if (c == '\t')
                visible.Append(' '); // a folded header's tab: white space, not worth an escape
            else if (Logging.LogText.NeedsEscape(c))
                visible.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{{{(int)c:x4}}}");
            else
                visible.Append(c);
        }
        // The encoder writes a line break as &#xA;: lines are encoded one by one, so that the page source reads as the text.
        return new Html(keepLines ? string.Join('\n', visible.ToString().Split('\n').Select(Encoder.Encode)) : Encoder.Encode(visible.ToString()));
    }

    public override string ToString() => _value ?? "";

    [InterpolatedStringHandler]
    public ref struct Builder
    {
        private readonly StringBuilder _sb;

        public Builder(int literalLength, int formattedCount) => _sb = new StringBuilder(literalLength + formattedCount * 16);

        public void AppendLiteral(string literal) => _sb.Append(literal);

        public void AppendFormatted(Html html) => _sb.Append(html.ToString());

        public void AppendFormatted(string? text) => _sb.Append(Text(text).ToString());

        public void AppendFormatted<T>(T value) => _sb.Append(Text(value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString()).ToString());

        public void AppendFormatted<T>(T value, string format) where T : IFormattable => _sb.Append(Text(value.ToString(format, CultureInfo.InvariantCulture)).ToString());

        public override string ToString() => _sb.ToString();
    }
}
