using System.Net.Sockets;
using System.Text;

namespace Gateway.Authentication.Spf;

/// <summary>
/// A macro-string of RFC 7208 section 7, parsed once and expanded per check. Written by hand: no package parses SPF
/// macros apart from ARSoft.Tools.Net's SPF validator, which is bound to its own DNS client (see SpfChecker).
/// </summary>
public sealed class SpfMacroString
{
    private const string DomainLetters = "slodiphv";
    private const string ExplanationLetters = "slodiphvcrt";
    private const string Delimiters = ".-+,/_=";

    private readonly IReadOnlyList<Part> _parts;

    private readonly bool _endsWithMacro;

    private SpfMacroString(string text, IReadOnlyList<Part> parts, bool endsWithMacro)
    {
        Text = text;
        _parts = parts;
        _endsWithMacro = endsWithMacro;
    }

    /// <summary>The string as written.</summary>
    public string Text { get; }

    /// <summary>True when the string uses <c>%{p}</c>, which needs DNS lookups before expansion.</summary>
    public bool UsesValidatedName => _parts.Any(p => p.Letter == 'p');

    /// <summary>True when the string ends in a macro-expand, "%%", "%_" and "%-" included (a domain-end of 7.1).</summary>
    public bool EndsWithMacro => _endsWithMacro;

    /// <summary>
    /// Parses a macro-string (<paramref name="explanation"/> false: as in a domain-spec, letters "slodiphv", no spaces)
    /// or an explain-string (true: also "c", "r", "t" and spaces). Throws <see cref="SpfSyntaxException"/>.
    /// </summary>
    public static SpfMacroString Parse(string text, bool explanation)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        var letters = explanation ? ExplanationLetters : DomainLetters;
        var endsWithMacro = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '%')
            {
                if (c < 0x20 || c > 0x7E || (c == ' ' && !explanation))
                    throw new SpfSyntaxException($"character 0x{(int)c:X2} not allowed in '{text}'");
                literal.Append(c);
                endsWithMacro = false;
                continue;
            }
            endsWithMacro = true;
            if (i + 1 >= text.Length)
                throw new SpfSyntaxException($"'%' at the end of '{text}'");
            var next = text[++i];
            switch (next)
            {
                case '%': literal.Append('%'); continue;
                case '_': literal.Append(' '); continue;
                case '-': literal.Append("%20"); continue;
                case '{': break;
                default: throw new SpfSyntaxException($"'%{next}' is not a macro in '{text}'");
            }
            if (literal.Length > 0)
            {
                parts.Add(Part.Literal(literal.ToString()));
                literal.Clear();
            }
            var close = text.IndexOf('}', i);
            if (close < 0)
                throw new SpfSyntaxException($"unterminated macro in '{text}'");
            parts.Add(ParseMacro(text[(i + 1)..close], letters, text));
            i = close;
        }
        if (literal.Length > 0)
            parts.Add(Part.Literal(literal.ToString()));
        return new SpfMacroString(text, parts, endsWithMacro);
    }

    private static Part ParseMacro(string body, string letters, string text)
    {
        if (body.Length == 0 || !letters.Contains(char.ToLowerInvariant(body[0])))
            throw new SpfSyntaxException($"unknown macro letter in '%{{{body}}}' of '{text}'");
        var letter = char.ToLowerInvariant(body[0]);
        var escape = char.IsUpper(body[0]);
        var i = 1;
        var digitsStart = i;
        while (i < body.Length && char.IsAsciiDigit(body[i]))
            i++;
        var keep = 0;
        if (i > digitsStart)
        {
            // 7.3: a DIGIT transformer, when given, must be nonzero. Values past any real label count mean "all".
            var digits = body[digitsStart..i].TrimStart('0');
            if (digits.Length == 0)
                throw new SpfSyntaxException($"zero label count in '%{{{body}}}' of '{text}'");
            keep = digits.Length > 3 ? 999 : int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        }
        var reverse = false;
        if (i < body.Length && body[i] is 'r' or 'R')
        {
            reverse = true;
            i++;
        }
        var delimiters = body[i..];
        if (delimiters.Any(d => !Delimiters.Contains(d)))
            throw new SpfSyntaxException($"bad transformer or delimiter in '%{{{body}}}' of '{text}'");
        return new Part(null, letter, escape, keep, reverse, delimiters.Length == 0 ? "." : delimiters);
    }

    /// <summary>Expands the string with the values of one check (7.3, 7.4).</summary>
    public string Expand(SpfMacroValues values)
    {
        var builder = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part.Text is not null)
            {
                builder.Append(part.Text);
                continue;
            }
            var value = Transform(ValueOf(part.Letter, values), part);
            builder.Append(part.Escape ? Uri.EscapeDataString(value) : value);
        }
        return builder.ToString();
    }

    private static string Transform(string value, Part part)
    {
        if (part.Keep == 0 && !part.Reverse && part.Delimiters == ".")
            return value;
        var labels = value.Split(part.Delimiters.ToCharArray());
        if (part.Reverse)
            Array.Reverse(labels);
        if (part.Keep > 0 && part.Keep < labels.Length)
            labels = labels[^part.Keep..];
        return string.Join('.', labels);
    }

    private static string ValueOf(char letter, SpfMacroValues v) => letter switch
    {
        's' => v.Sender,
        'l' => v.LocalPart,
        'o' => v.SenderDomain,
        'd' => v.Domain,
        'i' => DottedAddress(v.Client),
        'p' => v.ValidatedName ?? "unknown",
        'v' => v.Client.AddressFamily == AddressFamily.InterNetwork ? "in-addr" : "ip6",
        'h' => v.Helo,
        'c' => v.Client.ToString(),
        'r' => v.ReceivingHost,
        't' => v.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException("macro letter " + letter),
    };

    /// <summary>%{i}: dotted quad for IPv4, 32 dot-separated nibbles for IPv6 (7.3).</summary>
    private static string DottedAddress(System.Net.IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        var builder = new StringBuilder(63);
        foreach (var b in bytes)
        {
            if (builder.Length > 0)
                builder.Append('.');
            builder.Append("0123456789abcdef"[b >> 4]).Append('.').Append("0123456789abcdef"[b & 0xF]);
        }
        return builder.ToString();
    }

    public override string ToString() => Text;

    private sealed record Part(string? Text, char Letter, bool Escape, int Keep, bool Reverse, string Delimiters)
    {
        public static Part Literal(string text) => new(text, '\0', false, 0, false, ".");
    }
}
