using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Filters.Abuse;

/// <summary>
/// Which A answers of a DNS list count as "listed": addresses, ranges (<c>127.0.0.2-127.0.0.11</c>) and CIDR
/// networks. .NET's <see cref="IPNetwork"/> does the networks; the ranges are two integer comparisons, which no
/// package is needed for. The default is any 127.0.0.0/8 answer except 127.255.255.0/24, which Spamhaus and others use
/// to say "query refused" (a public resolver, too many queries, a typo in the zone), never "listed".
/// </summary>
public sealed class DnsblCodes
{
    private readonly List<(uint Low, uint High)> _ranges;
    private readonly string _text;

    private DnsblCodes(List<(uint, uint)> ranges, string text)
    {
        _ranges = ranges;
        _text = text;
    }

    public static readonly DnsblCodes Default = new([(Number(127, 0, 0, 0), Number(127, 255, 254, 255))], "127.0.0.0/8 except 127.255.255.x");

    /// <summary>127.255.255.0/24: the answers lists give for a refused query.</summary>
    public static bool IsRefusal(IPAddress answer) => answer.AddressFamily == AddressFamily.InterNetwork && Number(answer) >> 8 == Number(127, 255, 255, 0) >> 8;

    public bool Contains(IPAddress answer)
    {
        if (answer.AddressFamily != AddressFamily.InterNetwork)
            return false;
        var n = Number(answer);
        foreach (var (low, high) in _ranges)
        {
            if (n >= low && n <= high)
                return true;
        }
        return false;
    }

    public override string ToString() => _text;

    /// <summary>Parses "127.0.0.2", "127.0.0.2-127.0.0.11" or "127.0.0.0/24" entries; null with an error otherwise.</summary>
    public static DnsblCodes? Parse(IReadOnlyList<string> entries, out string? error)
    {
        error = null;
        var ranges = new List<(uint, uint)>();
        foreach (var entry in entries)
        {
            var text = entry.Trim();
            var dash = text.IndexOf('-');
            if (dash > 0 && V4(text[..dash]) is { } low && V4(text[(dash + 1)..]) is { } high && low <= high)
                ranges.Add((low, high));
            else if (dash < 0 && text.Contains('/') && IPNetwork.TryParse(text, out var network) && network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            {
                var start = Number(network.BaseAddress);
                var size = network.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - network.PrefixLength)) - 1;
                ranges.Add((start, start + size));
            }
            else if (dash < 0 && V4(text) is { } one)
                ranges.Add((one, one));
            else
            {
                error = $"'{entry}' is not an IPv4 address, a range 'A-B' or a CIDR network";
                return null;
            }
        }
        return ranges.Count == 0 ? Default : new DnsblCodes(ranges, string.Join(", ", entries));
    }

    private static uint? V4(string text) =>
        IPAddress.TryParse(text.Trim(), out var address) && address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3 ? Number(address) : null;

    private static uint Number(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static uint Number(byte a, byte b, byte c, byte d) => (uint)(a << 24 | b << 16 | c << 8 | d);
}
