namespace Gateway.Authentication.Arc;

/// <summary>
/// Thrown by an <see cref="MimeKit.Cryptography.IDkimPublicKeyLocator"/> when the key record could not be fetched for a
/// reason that may go away (DNS timeout, SERVFAIL), as opposed to a key that does not exist or cannot be parsed.
/// </summary>
public sealed class KeyLookupTemporaryException(string message, Exception? innerException = null)
    : Exception(message, innerException);
