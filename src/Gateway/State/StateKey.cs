using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.State;

/// <summary>
/// Builds the keys of the shared state: readable (an administrator can list them with <c>redis-cli --scan</c>) and
/// unambiguous: parts are joined with <c>|</c>, and a <c>|</c> or <c>%</c> inside a part (both possible in a quoted
/// local part) is percent-encoded.
/// </summary>
public static class StateKey
{
    public static string Join(string kind, IEnumerable<string> parts)
    {
        var key = new StringBuilder(kind).Append(':');
        var first = true;
        foreach (var part in parts)
        {
            if (!first)
                key.Append('|');
            first = false;
            foreach (var c in part)
            {
                switch (c)
                {
                    case '%': key.Append("%25"); break;
                    case '|': key.Append("%7C"); break;
                    default: key.Append(c); break;
                }
            }
        }
        return key.ToString();
    }

    /// <summary>The client's network: the address with its host bits cleared, as "192.0.2.0/24" or "2001:db8::/64".</summary>
    public static string Network(IPAddress address, int prefixV4, int prefixV6)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var prefix = address.AddressFamily == AddressFamily.InterNetwork ? prefixV4 : prefixV6;
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return $"{new IPAddress(bytes)}/{prefix}";
    }
}
