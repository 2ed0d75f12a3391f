using System.Net;
using Gateway.Configuration;

namespace Gateway.Filters;

/// <summary>
/// A list kept in a file, one entry a line, <c>#</c> starting a comment: IP addresses and CIDR networks here
/// (domains and addresses come with the rule engine).
/// </summary>
public sealed class NetworkList
{
    private readonly IPNetwork[] _networks;

    private NetworkList(IPNetwork[] networks) => _networks = networks;

    public int Count => _networks.Length;

    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        foreach (var network in _networks)
        {
            if (network.Contains(address))
                return true;
        }
        return false;
    }

    /// <summary>From entries already checked with <see cref="ConfigLoader.TryParseNetwork"/>.</summary>
    public static NetworkList From(IEnumerable<string> entries) =>
        new([.. entries.Select(e => ConfigLoader.TryParseNetwork(e, out var n) ? n : throw new ArgumentException(e))]);

    /// <summary>Reads the file; every bad line is reported as "file:line: ...".</summary>
    public static NetworkList Load(string path, List<string> errors)
    {
        var networks = new List<IPNetwork>();
        string[] lines;
        try
        {
            lines = ConfigFiles.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"cannot read list {path}: {e.Message}");
            return new NetworkList([]);
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i];
            var hash = text.IndexOf('#');
            if (hash >= 0)
                text = text[..hash];
            text = text.Trim();
            if (text.Length == 0)
                continue;
            if (ConfigLoader.TryParseNetwork(text, out var network))
                networks.Add(network);
            else
                errors.Add($"{path}:{i + 1}: '{text}' is not an IP address or CIDR network");
        }
        return new NetworkList([.. networks]);
    }
}
