using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// A console password hash as <c>gateway passwd</c> prints it: <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (salt and
/// hash in base64). PBKDF2-HMAC-SHA256 from the framework (Rfc2898DeriveBytes.Pbkdf2), 600,000 iterations by
/// default (OWASP's figure for it); the Argon2 packages on the feed are a managed implementation far slower than
/// the framework's native PBKDF2 per unit of attacker cost, or a native libsodium dependency, so the framework's is used.
/// </summary>
public sealed class PasswordHash
{
    public const string Scheme = "pbkdf2-sha256";
    public const int DefaultIterations = 600_000;

    /// <summary>Hashes with fewer iterations are refused by the configuration.</summary>
    public const int MinIterations = 100_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private PasswordHash(int iterations, byte[] salt, byte[] hash)
    {
        Iterations = iterations;
        _salt = salt;
        _hash = hash;
    }

    public int Iterations { get; }

    /// <summary>A short fingerprint of this hash: a session made before the password changed is ended (not a secret; not the hash).</summary>
    public string Stamp => Convert.ToHexStringLower(SHA256.HashData(_hash))[..16];

    public static PasswordHash Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(iterations, salt, Derive(password, salt, iterations));
    }

    /// <returns>null, with <paramref name="error"/> saying why, when <paramref name="text"/> is not a hash of this form.</returns>
    public static PasswordHash? TryParse(string text, out string? error)
    {
        error = null;
        var parts = text.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme)
        {
            error = $"must be a hash made by 'gateway passwd' ({Scheme}$ITERATIONS$SALT$HASH)";
            return null;
        }
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinIterations || iterations > 100_000_000)
        {
            error = $"has {parts[1]} iterations; at least {MinIterations:N0} are needed (make it again with 'gateway passwd')";
            return null;
        }
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var hash = Convert.FromBase64String(parts[3]);
            if (salt.Length < 8 || hash.Length != HashBytes)
            {
                error = "has a salt or hash of the wrong length (make it again with 'gateway passwd')";
                return null;
            }
            return new PasswordHash(iterations, salt, hash);
        }
        catch (FormatException)
        {
            error = "has a salt or hash that is not base64 (make it again with 'gateway passwd')";
            return null;
        }
    }

    /// <summary>Compares in constant time; costs the full iteration count whatever the password.</summary>
    public bool Verify(string password) => CryptographicOperations.FixedTimeEquals(Derive(password, _salt, Iterations), _hash);

    public override string ToString() => $"{Scheme}${Iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(_salt)}${Convert.ToBase64String(_hash)}";

    private static byte[] Derive(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
}
