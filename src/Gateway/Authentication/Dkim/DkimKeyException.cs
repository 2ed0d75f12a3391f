namespace Gateway.Authentication.Dkim;

/// <summary>Thrown through MimeKit's <see cref="MimeKit.Cryptography.IDkimPublicKeyLocator"/> when no usable key was found.</summary>
public sealed class DkimKeyException(DkimResult result, string message) : Exception(message)
{
    /// <summary>PermError or TempError.</summary>
    public DkimResult Result { get; } = result;
}
