namespace Gateway.Transports.Milter;

/// <summary>
/// The MTA's macros (SMFIC_MACRO) that the session reads, by name. Only those names are kept: the MTA may send any
/// number of others (Postfix sends what it is configured to, and a peer could send millions of made-up names over a
/// long session), and keeping them all would let it grow the gateway's memory without bound. libmilter bounds them
/// by replacing each stage's macros with the next packet for that stage; here a name's value is replaced.
/// </summary>
public sealed class MilterMacros
{
    /// <summary>Every name the session asks <see cref="Get"/> for.</summary>
    public static readonly IReadOnlySet<string> Read = new HashSet<string>(StringComparer.Ordinal)
    {
        "i", "{client_addr}", "{client_port}", "{client_name}", "{daemon_addr}", "{daemon_port}", "{tls_version}", "{cipher}", "{auth_authen}",
    };

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public int Count => _values.Count;

    public void Set(IReadOnlyDictionary<string, string> macros)
    {
        foreach (var (name, value) in macros)
        {
            if (Read.Contains(name))
                _values[name] = value;
        }
    }

    /// <summary>The value, or null when it was not sent or is empty.</summary>
    public string? Get(string name)
    {
        System.Diagnostics.Debug.Assert(Read.Contains(name), $"macro {name} is read but not in MilterMacros.Read");
        return _values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
    }

    public void Remove(string name) => _values.Remove(name);

    public void Clear() => _values.Clear();
}
