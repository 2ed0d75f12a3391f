namespace Gateway.Core;

/// <summary>What a <see cref="HeaderEdit"/> does to the message's header block (a milter answers with exactly these).</summary>
public enum HeaderEditKind
{
    /// <summary>Adds a header field in front of the message's own.</summary>
    Add,

    /// <summary>Replaces every field of this name with one holding the value.</summary>
    Change,

    /// <summary>Removes every field of this name.</summary>
    Delete,
}

/// <summary>
/// A structured change to the message's header block, made by the gateway before forwarding: added fields go in front,
/// changed and deleted fields are taken out of the message as it is forwarded (its body bytes are never touched).
/// <c>new HeaderEdit(name, value)</c> adds a field, as it always did.
/// </summary>
public sealed record HeaderEdit(string Name, string Value)
{
    public HeaderEditKind Kind { get; init; } = HeaderEditKind.Add;

    public static HeaderEdit Add(string name, string value) => new(name, value);

    public static HeaderEdit Change(string name, string value) => new(name, value) { Kind = HeaderEditKind.Change };

    public static HeaderEdit Delete(string name) => new(name, "") { Kind = HeaderEditKind.Delete };
}
