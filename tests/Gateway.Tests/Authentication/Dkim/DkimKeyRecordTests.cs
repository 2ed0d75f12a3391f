using System.Numerics;
using System.Security.Cryptography;
using Gateway.Authentication.Dkim;

namespace Gateway.Tests.Authentication.Dkim;

public class DkimKeyRecordTests
{
    private static string Record(byte[] modulus, byte[] exponent)
    {
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = exponent });
        return "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void A_normal_2048_bit_key_is_read()
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        Assert.NotNull(DkimKeyRecord.Parse(Record(p.Modulus!, p.Exponent!), out var error));
        Assert.Null(error);
    }

    [Fact]
    public void A_public_exponent_that_would_make_verifying_slow_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var modulus = rsa.ExportParameters(false).Modulus!;
        var exponent = (BigInteger.One << 1000) + 1;
        var bytes = exponent.ToByteArray(isUnsigned: true, isBigEndian: true);

        Assert.Null(DkimKeyRecord.Parse(Record(modulus, bytes), out var error));
        Assert.NotNull(error);
    }
}
