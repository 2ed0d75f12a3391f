// Written by hand: MimeKit's tag-list parser is internal (and drops whitespace inside every value), and no other
// package parses the RFC 6376 section 3.2 tag=value syntax that signatures and key records share.
namespace Gateway.Authentication.Dkim;

/// <summary>An RFC 6376 section 3.2 tag list (<c>a=b; c=d</c>): tags in their order, values trimmed.</summary>
internal sealed class DkimTagList
{
    private readonly List<KeyValuePair<string, string>> _tags;

    private DkimTagList(List<KeyValuePair<string, string>> tags) => _tags = tags;

    /// <summary>The tags in the order written; names keep their case (tag names are case-sensitive).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags => _tags;

    public string? this[string name]
    {
        get
        {
            foreach (var tag in _tags)
            {
                if (tag.Key == name)
                    return tag.Value;
            }
            return null;
        }
    }

    /// <summary>Parses the list; null and an error text when it is not a tag list or names a tag twice.</summary>
    public static DkimTagList? Parse(string text, out string? error)
    {
        var tags = new List<KeyValuePair<string, string>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in text.Split(';'))
        {
            if (IsBlank(spec))
                continue; // the list may end with ';' (and some writers leave empty specs in the middle)
            var equals = spec.IndexOf('=');
            if (equals < 0)
            {
                error = $"tag without '=': {Shorten(spec.Trim())}";
                return null;
            }
            var name = spec[..equals].Trim(Whitespace);
            if (!IsTagName(name))
            {
                error = $"bad tag name: {Shorten(name)}";
                return null;
            }
            if (!names.Add(name))
            {
                error = $"duplicate tag {name}=";
                return null;
            }
            tags.Add(new(name, spec[(equals + 1)..].Trim(Whitespace)));
        }
        error = null;
        return new DkimTagList(tags);
    }

    /// <summary>The value with all folding whitespace removed (b=, bh=, p= may be folded anywhere).</summary>
    public static string Compact(string value) =>
        value.IndexOfAny(Whitespace) < 0 ? value : string.Concat(value.Where(c => Array.IndexOf(Whitespace, c) < 0));

    /// <summary>A colon-separated list (h=, q=, s=, t=, key h=), each element trimmed.</summary>
    public static string[] SplitList(string value) =>
        value.Split(':', StringSplitOptions.TrimEntries);

    private static readonly char[] Whitespace = [' ', '\t', '\r', '\n'];

    private static bool IsBlank(string s) => s.AsSpan().IndexOfAnyExcept(Whitespace) < 0;

    private static bool IsTagName(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
            return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                return false;
        }
        return true;
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "...";
}
