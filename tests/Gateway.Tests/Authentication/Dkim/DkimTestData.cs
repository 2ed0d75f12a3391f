using System.Collections.Concurrent;
using Gateway.Dns;
using Gateway.Tests.Support;
using MimeKit;

namespace Gateway.Tests.Authentication.Dkim;

/// <summary>The conformance material under TestData/dkim: key tables as zones, messages in wire form.</summary>
internal static class DkimTestData
{
    public static string Root { get; } = Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "dkim");

    /// <summary>2025-01-01: after every x= in the set (all in 2024, so always expired) and after the signing time.</summary>
    public static readonly DateTimeOffset Now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ConcurrentDictionary<string, ZoneResolver> Zones = new();

    /// <summary>The zone for a manifest set: mail-dkim → FAKE_DNS.dat, generated → generated/KEYS.dat, else KEYS.dat.</summary>
    public static ZoneResolver ZoneFor(string set) => Zones.GetOrAdd(set, s => LoadZone(s switch
    {
        "mail-dkim" => "mail-dkim/FAKE_DNS.dat",
        "generated" => "generated/KEYS.dat",
        _ => "KEYS.dat",
    }));

    /// <summary>
    /// One record a line: name, whitespace, TXT text. NXDOMAIN is left out (absent names are NXDOMAIN);
    /// <c>~~error~~</c> makes the lookup fail; <c>""</c> is one empty string.
    /// </summary>
    public static ZoneResolver LoadZone(string relativePath)
    {
        var zone = new ZoneResolver();
        foreach (var line in File.ReadAllLines(Path.Combine(Root, relativePath)))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] is '#' or ';')
                continue;
            var space = trimmed.IndexOfAny([' ', '\t']);
            var name = trimmed[..space];
            var value = trimmed[space..].Trim();
            if (value == "NXDOMAIN")
                continue;
            if (value.StartsWith("~~", StringComparison.Ordinal) && value.EndsWith("~~", StringComparison.Ordinal))
                zone.Fail(name, value[2..^2]);
            else
                zone.Add(name, RecordType.TXT, value == "\"\"" ? "" : value);
        }
        return zone;
    }

    /// <summary>The file's bytes with every bare LF turned into CRLF (the sets' LF files; CRLF files are unchanged).</summary>
    public static byte[] WireBytes(string relativePath)
    {
        var raw = File.ReadAllBytes(Path.Combine(Root, relativePath));
        var wire = new MemoryStream(raw.Length + raw.Length / 20);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == (byte)'\n' && (i == 0 || raw[i - 1] != (byte)'\r'))
                wire.WriteByte((byte)'\r');
            wire.WriteByte(raw[i]);
        }
        return wire.ToArray();
    }

    public static MimeMessage Parse(byte[] wire) =>
        MimeMessage.Load(new ParserOptions { MaxMimeDepth = 16 }, new MemoryStream(wire, writable: false));

    public static MimeMessage Load(string relativePath) => Parse(WireBytes(relativePath));
}

/// <summary>A clock that stands still.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
