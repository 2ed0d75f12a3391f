using Gateway.Signing;
using YamlDotNet.RepresentationModel;

namespace Gateway.Configuration;

/// <summary>The <c>signing</c> section: DKIM keys for outbound mail, an ARC sealing key for inbound mail.</summary>
public static partial class ConfigLoader
{
    private static SigningConfig ReadSigning(YamlMappingReader r, string baseDirectory)
    {
        var keys = new List<SigningKey>();
        var dkim = r.Get("dkim");
        if (dkim is not null and not YamlSequenceNode)
            r.Error(dkim, "'signing.dkim' must be a list of { domain, selector, key }");
        if (dkim is YamlSequenceNode list)
        {
            for (var i = 0; i < list.Children.Count; i++)
            {
                var item = YamlMappingReader.For(list.Children[i], $"signing.dkim[{i}]", r.Sink);
                if (ReadKey(item, baseDirectory) is not { } key)
                    continue;
                if (keys.Any(k => k.Domain == key.Domain))
                    item.Error(item.Get("domain"), $"two DKIM keys for {key.Domain}: give each signing domain one key");
                else
                    keys.Add(key);
            }
        }
        var arcNode = r.Get("arc");
        var arc = arcNode is null ? null : ReadKey(r.Mapping("arc"), baseDirectory);
        r.RejectUnknownKeys();
        return keys.Count == 0 && arc is null ? SigningConfig.None : new SigningConfig(keys, arc);
    }

    private static SigningKey? ReadKey(YamlMappingReader r, string baseDirectory)
    {
        var (domain, domainNode) = r.StringWithNode("domain");
        var (selector, selectorNode) = r.StringWithNode("selector");
        var (path, keyNode) = r.StringWithNode("key");
        r.RejectUnknownKeys();
        if (domain is null || selector is null || path is null)
        {
            r.Error(r.Node, $"'{r.Path}' needs domain, selector and key (a PEM private key file)");
            return null;
        }
        if (Uri.CheckHostName(domain) != UriHostNameType.Dns || !domain.Contains('.'))
        {
            r.Error(domainNode, $"'{r.Path}.domain' must be a domain name, not '{domain}'");
            return null;
        }
        if (selector.Length == 0 || selector.Split('.').Any(label => label.Length == 0 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            r.Error(selectorNode, $"'{r.Path}.selector' must be DNS labels (letters, digits, hyphens), not '{selector}'");
            return null;
        }
        var full = r.Sink.Depend(Path.GetFullPath(path, baseDirectory));
        var key = SigningKey.Load(domain, selector, full, out var error);
        if (key is null)
            r.Error(keyNode, error!);
        return key;
    }
}
