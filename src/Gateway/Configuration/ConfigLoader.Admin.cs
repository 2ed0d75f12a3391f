using System.Net;
using Gateway.Admin;

namespace Gateway.Configuration;

/// <summary>The <c>admin</c> section: the HTTP listener for metrics and health. Absent: no listener.</summary>
public static partial class ConfigLoader
{
    private static AdminConfig? ReadAdmin(YamlMappingReader top)
    {
        if (top.Get("admin") is null)
            return null;
        var r = top.Mapping("admin");
        var listen = new List<IPEndPoint>();
        var items = r.StringList("listen");
        foreach (var (value, node) in items)
        {
            if (IPEndPoint.TryParse(value, out var ep) && value.Contains(':') && (ep.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || value.StartsWith('[')))
                listen.Add(ep);
            else
                r.Error(node, $"'admin.listen' entry '{value}' must be an IP address and port, such as 127.0.0.1:8025");
        }
        if (items.Count == 0)
            listen.Add(AdminConfig.DefaultEndpoint);
        r.RejectUnknownKeys();
        return new AdminConfig(listen);
    }
}
