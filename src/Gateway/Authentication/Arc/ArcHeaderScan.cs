using System.Globalization;
using MimeKit;

namespace Gateway.Authentication.Arc;

/// <summary>
/// A light read of a message's ARC headers, before and beside MimeKit's verifier: the hops to report (MimeKit keeps its
/// header sets internal), the highest instance, and the algorithms named. Written by hand because MimeKit's tag parser
/// is internal; it is only used for reporting and for limits, never to decide that a signature is good.
/// </summary>
internal sealed class ArcHeaderScan
{
    private readonly SortedDictionary<int, Slot> _slots = [];

    /// <summary>How many ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results headers the message has.</summary>
    public int HeaderCount { get; private set; }

    /// <summary>The highest instance number read from any ARC header (0 when none could be read).</summary>
    public int MaxInstance => _slots.Count == 0 ? 0 : _slots.Keys.Max();

    /// <summary>True when an ARC-Seal or ARC-Message-Signature names a=rsa-sha1.</summary>
    public bool UsesRsaSha1 { get; private set; }

    /// <summary>The (first) ARC-Message-Signature of an instance, if any.</summary>
    public Header? MessageSignature(int instance) => _slots.GetValueOrDefault(instance)?.MessageSignature;

    /// <summary>True when the (first) ARC-Message-Signature of the instance lists ARC-Seal in h=, which RFC 8617 4.1.2
    /// forbids: the seals are the ARC-Seal's business, and MimeKit does not check it.</summary>
    public bool SignsArcSeal(int instance) => _slots.GetValueOrDefault(instance)?.SignsArcSeal == true;

    public IReadOnlyList<ArcHop> Hops =>
        [.. _slots.Select(s => new ArcHop(s.Key, s.Value.SealDomain, s.Value.Selector, s.Value.AuthenticationResults))];

    public static ArcHeaderScan Of(HeaderList headers)
    {
        var scan = new ArcHeaderScan();
        foreach (var header in headers)
        {
            switch (header.Id)
            {
                case HeaderId.ArcSeal:
                case HeaderId.ArcMessageSignature:
                {
                    scan.HeaderCount++;
                    var tags = Tags(header.Value);
                    if (tags.TryGetValue("a", out var a) && a.Equals("rsa-sha1", StringComparison.OrdinalIgnoreCase))
                        scan.UsesRsaSha1 = true;
                    if (!tags.TryGetValue("i", out var i) || Instance(i) is not { } instance)
                        break;
                    var slot = scan.SlotFor(instance);
                    if (header.Id == HeaderId.ArcSeal && !slot.HasSeal)
                    {
                        slot.HasSeal = true;
                        slot.SealDomain = tags.GetValueOrDefault("d");
                        slot.Selector = tags.GetValueOrDefault("s");
                    }
                    else if (header.Id == HeaderId.ArcMessageSignature && slot.MessageSignature is null)
                    {
                        slot.MessageSignature = header;
                        slot.SignsArcSeal = tags.GetValueOrDefault("h")?.Split(':')
                            .Any(name => name.Equals("arc-seal", StringComparison.OrdinalIgnoreCase)) == true;
                    }
                    break;
                }
                case HeaderId.ArcAuthenticationResults:
                {
                    scan.HeaderCount++;
                    var value = header.Value.Trim();
                    var semicolon = value.IndexOf(';');
                    var first = semicolon < 0 ? value : value[..semicolon];
                    var equals = first.IndexOf('=');
                    if (equals < 0 || !first[..equals].Trim().Equals("i", StringComparison.OrdinalIgnoreCase))
                        break;
                    if (Instance(first[(equals + 1)..].Trim()) is { } instance)
                        scan.SlotFor(instance).AuthenticationResults ??= value;
                    break;
                }
            }
        }
        return scan;
    }

    /// <summary>A DKIM-style tag list: names trimmed and lower-cased, whitespace removed from values; the first of a
    /// repeated tag wins (MimeKit refuses such a header anyway).</summary>
    internal static Dictionary<string, string> Tags(string value)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in value.Split(';'))
        {
            var equals = part.IndexOf('=');
            if (equals <= 0)
                continue;
            var name = part[..equals].Trim().ToLowerInvariant();
            var text = string.Concat(part[(equals + 1)..].Where(c => !char.IsWhiteSpace(c)));
            tags.TryAdd(name, text);
        }
        return tags;
    }

    private static int? Instance(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : null;

    private Slot SlotFor(int instance)
    {
        if (!_slots.TryGetValue(instance, out var slot))
            _slots[instance] = slot = new Slot();
        return slot;
    }

    private sealed class Slot
    {
        public bool HasSeal { get; set; }
        public Header? MessageSignature { get; set; }
        public bool SignsArcSeal { get; set; }
        public string? SealDomain { get; set; }
        public string? Selector { get; set; }
        public string? AuthenticationResults { get; set; }
    }
}
