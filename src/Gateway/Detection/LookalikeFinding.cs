namespace Gateway.Detection;

/// <summary>How a domain imitates a protected one.</summary>
public enum LookalikeKind
{
    /// <summary>The same registrable name under another public suffix: paypal.net for paypal.com.</summary>
    OtherTld,

    /// <summary>Digits for letters in the registrable name: c0rp, paypa1, g00gle.</summary>
    Digits,

    /// <summary>Unicode (or ASCII) confusables: the TR39 skeletons are equal (pаypal with a Cyrillic а, rnicrosoft).</summary>
    Confusable,

    /// <summary>One letter added, dropped, changed or two swapped in the registrable name (paypall, pyapal).</summary>
    OneEdit,

    /// <summary>The protected name used as a label of someone else's domain: corp.example.evil.test, corp-example.test.</summary>
    Embedded,
}

/// <summary>A domain found in a message (<see cref="Domain"/>) that imitates a protected one (<see cref="Imitates"/>).</summary>
public sealed record LookalikeFinding(string Domain, string Imitates, LookalikeKind Kind)
{
    public string KindText => Kind switch
    {
        LookalikeKind.OtherTld => "same name, other TLD",
        LookalikeKind.Digits => "digits for letters",
        LookalikeKind.Confusable => "confusable characters",
        LookalikeKind.OneEdit => "one letter added, dropped, changed or swapped",
        _ => "protected name inside another domain",
    };

    public override string ToString() => $"{Domain} imitates {Imitates} ({KindText})";
}
