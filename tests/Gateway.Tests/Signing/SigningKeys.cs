using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;

namespace Gateway.Tests.Signing;

/// <summary>Fresh private keys as PEM text, with the DKIM key record (TXT) that publishes each.</summary>
public static class SigningKeys
{
    public static (string Pem, string Record) Rsa(int bits = 2048, bool pkcs8 = false)
    {
        using var rsa = RSA.Create(bits);
        var pem = pkcs8 ? rsa.ExportPkcs8PrivateKeyPem() : rsa.ExportRSAPrivateKeyPem();
        return (pem, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
    }

    public static (string Pem, string Record) Ed25519()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        using var text = new StringWriter();
        var writer = new PemWriter(text);
        writer.WriteObject(new Org.BouncyCastle.OpenSsl.Pkcs8Generator(pair.Private));
        writer.Writer.Flush();
        var publicKey = ((Ed25519PublicKeyParameters)pair.Public).GetEncoded();
        return (text.ToString(), "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(publicKey));
    }
}
