using System.Net;
using Gateway.Transports.Milter;

namespace Gateway.Configuration;

/// <summary>The <c>milter</c> section: the pipeline as a milter for an MTA in front. Absent: no milter listener.</summary>
public static partial class ConfigLoader
{
    private static MilterConfig? ReadMilter(YamlMappingReader top, string baseDirectory)
    {
        if (top.Get("milter") is null)
            return null;
        var r = top.Mapping("milter");
        var listen = new List<MilterEndpoint>();
        var items = r.StringList("listen");
        foreach (var (value, node) in items)
        {
            if (value.StartsWith("unix:", StringComparison.Ordinal))
            {
                var path = value.Length > 5 ? Path.GetFullPath(value[5..], baseDirectory) : "";
                // sun_path holds 108 bytes, its terminating NUL included.
                if (path.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(path) > 107)
                    r.Error(node, $"'milter.listen' entry '{value}' needs a socket path of at most 107 bytes after 'unix:'");
                else
                    listen.Add(new MilterEndpoint(null, path));
            }
            else if (IPEndPoint.TryParse(value, out var ep) && value.Contains(':') && (ep.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || value.StartsWith('[')))
                listen.Add(new MilterEndpoint(ep, null));
            else
                r.Error(node, $"'milter.listen' entry '{value}' must be an IP address and port (127.0.0.1:11332) or a Unix socket (unix:/run/gateway/milter.sock)");
        }
        if (items.Count == 0)
            listen.Add(MilterConfig.DefaultEndpoint);
        foreach (var twice in listen.GroupBy(e => e.ToString()).Where(g => g.Count() > 1))
            r.Error(r.Get("listen"), $"'milter.listen' names {twice.Key} twice");
        var config = new MilterConfig(
            listen,
            r.Enum("quarantine", MilterQuarantine.Gateway),
            r.Int("max_connections", 1000, 1, 1_000_000),
            r.Duration("command_timeout", MilterConfig.DefaultCommandTimeout),
            r.Duration("session_timeout", TimeSpan.FromHours(1)));
        r.RejectUnknownKeys();
        return config;
    }
}
