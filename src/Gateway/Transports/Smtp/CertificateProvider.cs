using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;

namespace Gateway.Transports.Smtp;

/// <summary>
/// Loads the STARTTLS certificate from its PEM files, and again whenever they change on disk, so that a renewed
/// certificate is used from the next handshake without a restart.
/// </summary>
public sealed class CertificateProvider
{
    private readonly TlsConfig _config;
    private readonly Lock _lock = new();
    private X509Certificate2 _certificate;
    private DateTime _loadedStamp;

    public CertificateProvider(TlsConfig config)
    {
        _config = config;
        _certificate = Load(config, out _loadedStamp);
    }

    public X509Certificate2 Current()
    {
        lock (_lock)
        {
            var stamp = Stamp(_config);
            if (stamp != _loadedStamp)
            {
                try
                {
                    _certificate = Load(_config, out _loadedStamp);
                }
                catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    // A half-written renewal: keep serving the certificate that worked.
                }
            }
            return _certificate;
        }
    }

    private static DateTime Stamp(TlsConfig config) =>
        File.GetLastWriteTimeUtc(config.CertificatePath) > File.GetLastWriteTimeUtc(config.KeyPath)
            ? File.GetLastWriteTimeUtc(config.CertificatePath)
            : File.GetLastWriteTimeUtc(config.KeyPath);

    public static X509Certificate2 Load(TlsConfig config, out DateTime stamp)
    {
        stamp = Stamp(config);
        using var pem = X509Certificate2.CreateFromPemFile(config.CertificatePath, config.KeyPath);
        // SslStream on Linux wants a key it can use repeatedly: re-import as PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
