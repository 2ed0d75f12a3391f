using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Dns;

public static class DnsNames
{
    /// <summary>A name as the resolvers compare it: lower case, no trailing dot.</summary>
    public static string Normalize(string name) => name.TrimEnd('.').ToLowerInvariant();

    /// <summary>True when the name could go on the wire: labels of 1-63 octets, 253 octets in all.</summary>
    public static bool IsValidQueryName(string name)
    {
        var trimmed = name.TrimEnd('.');
        if (trimmed.Length == 0 || Encoding.UTF8.GetByteCount(trimmed) > 253)
            return false;
        foreach (var label in trimmed.Split('.'))
        {
            if (label.Length == 0 || Encoding.UTF8.GetByteCount(label) > 63)
                return false;
        }
        return true;
    }

    /// <summary>The PTR query name of an address: 4.3.2.1.in-addr.arpa or the nibbles under ip6.arpa.</summary>
    public static string ReverseName(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        var builder = new StringBuilder(address.AddressFamily == AddressFamily.InterNetwork ? 30 : 74);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            for (var i = bytes.Length - 1; i >= 0; i--)
                builder.Append(bytes[i]).Append('.');
            return builder.Append("in-addr.arpa").ToString();
        }
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            builder.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.');
            builder.Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
        }
        return builder.Append("ip6.arpa").ToString();
    }
}
