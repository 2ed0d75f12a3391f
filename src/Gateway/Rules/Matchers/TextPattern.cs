using System.Text;

namespace Gateway.Rules.Matchers;

/// <summary>How a text value is compared: exactly, by glob, by regex, by the domain of an address, or against a list.</summary>
public sealed class TextPattern
{
    private readonly string? _exact;
    private readonly SafeRegex? _regex;
    private readonly string? _domain;
    private readonly IReadOnlySet<string>? _list;
    private readonly string _description;

    private TextPattern(string description, string? exact = null, SafeRegex? regex = null, string? domain = null, IReadOnlySet<string>? list = null)
    {
        _description = description;
        _exact = exact;
        _regex = regex;
        _domain = domain;
        _list = list;
    }

    public override string ToString() => _description;

    public static TextPattern Exact(string value) => new($"exact {value}", exact: value);

    public static TextPattern Domain(string domain) => new($"domain {domain}", domain: domain.TrimStart('@').ToLowerInvariant());

    public static TextPattern Regex(SafeRegex regex) => new($"regex {regex.Pattern}", regex: regex);

    /// <summary>Entries are addresses (compared whole) or domains (compared with the address's domain).</summary>
    public static TextPattern List(string name, IReadOnlySet<string> entries) => new($"list {name}", list: entries);

    /// <summary><c>*</c> any run of characters, <c>?</c> one character; case-insensitive.</summary>
    public static string? Glob(string glob, out TextPattern? pattern)
    {
        var regex = new StringBuilder("^");
        foreach (var c in glob)
            regex.Append(c switch { '*' => ".*", '?' => ".", _ => System.Text.RegularExpressions.Regex.Escape(c.ToString()) });
        regex.Append('$');
        var error = SafeRegex.TryCreate(regex.ToString(), ignoreCase: true, out var compiled);
        pattern = compiled is null ? null : new TextPattern($"glob {glob}", regex: compiled);
        return error;
    }

    /// <summary>The matching part of <paramref name="value"/>, or null.</summary>
    public string? Match(string value)
    {
        if (_exact is not null)
            return string.Equals(value, _exact, StringComparison.OrdinalIgnoreCase) ? value : null;
        if (_regex is not null)
            return _regex.Match(value);
        var at = value.LastIndexOf('@');
        var domain = (at >= 0 ? value[(at + 1)..] : value).TrimEnd('.').ToLowerInvariant();
        if (_domain is not null)
            return domain == _domain ? value : null;
        if (_list is not null)
            return _list.Contains(value.ToLowerInvariant()) || _list.Contains(domain) ? value : null;
        return null;
    }
}
