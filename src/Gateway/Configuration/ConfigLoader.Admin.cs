using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Admin;
using Gateway.Admin.WebConsole;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>
/// The <c>admin</c> section: the HTTP listener for metrics, health and the web console (on when <c>users</c> has
/// someone), HTTPS with <c>tls</c>, the login lockout, and where the console's keys are kept (<c>keys</c>).
/// Absent: no listener.
/// </summary>
public static partial class ConfigLoader
{
    private static AdminConfig? ReadAdmin(YamlMappingReader top, string baseDirectory)
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
        var users = ReadAdminUsers(r);
        var tls = ReadAdminTls(r, baseDirectory);
        var lockout = ReadLockout(r);
        var (keys, keysNode) = r.StringWithNode("keys");
        if (keys is { Length: 0 })
            r.Error(keysNode!, "'admin.keys' must name a directory");
        r.RejectUnknownKeys();
        return new AdminConfig(listen)
        {
            Users = users,
            Tls = tls,
            Lockout = lockout,
            KeysDirectory = string.IsNullOrEmpty(keys) ? null : Path.GetFullPath(keys, baseDirectory),
        };
    }

    private static List<ConsoleUser> ReadAdminUsers(YamlMappingReader r)
    {
        var users = new List<ConsoleUser>();
        var node = r.Get("users");
        if (node is null)
            return users;
        if (node is not YamlSequenceNode sequence)
        {
            r.Error(node, "'admin.users' must be a list of { name, password_hash }");
            return users;
        }
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var u = YamlMappingReader.For(sequence.Children[i], $"admin.users[{i}]", ErrorsOf(r));
            var (name, nameNode) = u.StringWithNode("name");
            var (hash, hashNode) = u.StringWithNode("password_hash");
            u.RejectUnknownKeys();
            if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
            {
                u.Error(nameNode ?? u.Node, $"'admin.users[{i}].name' must be 1 to 64 letters, digits, '.', '_', '-' or '@'");
                continue;
            }
            if (users.Any(x => x.Name == name))
            {
                u.Error(nameNode, $"'admin.users' has '{name}' twice");
                continue;
            }
            if (hash is null)
            {
                u.Error(u.Node, $"'admin.users[{i}]' needs 'password_hash' (run 'gateway passwd')");
                continue;
            }
            if (PasswordHash.TryParse(hash, out var error) is { } parsed)
                users.Add(new ConsoleUser(name, parsed));
            else
                u.Error(hashNode, $"'admin.users[{i}].password_hash' {error}");
        }
        return users;
    }

    private static TlsConfig? ReadAdminTls(YamlMappingReader r, string baseDirectory)
    {
        var tlsNode = r.Get("tls");
        if (tlsNode is null)
            return null;
        var t = YamlMappingReader.For(tlsNode, "admin.tls", ErrorsOf(r));
        var (cert, certNode) = t.StringWithNode("certificate");
        var (key, keyNode) = t.StringWithNode("key");
        t.RejectUnknownKeys();
        if (cert is null || key is null)
        {
            t.Error(tlsNode, "'admin.tls' needs both 'certificate' and 'key' (PEM files)");
            return null;
        }
        var certPath = Path.GetFullPath(cert, baseDirectory);
        var keyPath = Path.GetFullPath(key, baseDirectory);
        if (!File.Exists(certPath))
            t.Error(certNode, $"'admin.tls.certificate' file not found: {cert}");
        else if (!File.Exists(keyPath))
            t.Error(keyNode, $"'admin.tls.key' file not found: {key}");
        else
        {
            try
            {
                using var loaded = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                t.Error(certNode, $"'admin.tls' certificate and key cannot be loaded: {e.Message}");
            }
        }
        return new TlsConfig(certPath, keyPath);
    }

    private static LockoutPolicy ReadLockout(YamlMappingReader r)
    {
        if (r.Get("lockout") is null)
            return LockoutPolicy.Default;
        var l = r.Mapping("lockout");
        var d = LockoutPolicy.Default;
        var failures = l.Int("failures", d.Failures, 1, 1000);
        var duration = l.Duration("duration", d.Duration);
        var delay = l.Duration("delay", d.Delay);
        if (duration < TimeSpan.FromSeconds(1))
            l.Error(l.Get("duration"), "'admin.lockout.duration' must be at least 1s");
        if (delay > TimeSpan.FromSeconds(30))
            l.Error(l.Get("delay"), "'admin.lockout.delay' must be at most 30s");
        l.RejectUnknownKeys();
        return new LockoutPolicy(failures, duration, delay);
    }
}
