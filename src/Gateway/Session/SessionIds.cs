using System.Security.Cryptography;

namespace Gateway.Session;

/// <summary>Short random session identifiers for logs and Received headers (12 characters of base32).</summary>
public static class SessionIds
{
    private const string Alphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZ";

    public static string Next() => RandomNumberGenerator.GetString(Alphabet, 12);
}
