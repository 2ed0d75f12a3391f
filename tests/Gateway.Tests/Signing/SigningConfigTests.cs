using Gateway.Configuration;
using Gateway.Tests.Support;

namespace Gateway.Tests.Signing;

/// <summary>The signing section: keys are read once at load, and every problem is a configuration error.</summary>
public sealed class SigningConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private ConfigResult Load(string signing) =>
        ConfigLoader.Load($"relay: {{ domains: [example.test] }}\nupstream: {{ directory: out }}\nsigning:\n{signing}", "gateway.yaml", _dir.Path);

    [Fact]
    public void Reads_rsa_keys_in_both_pem_forms_and_ed25519_keys()
    {
        _dir.Write("rsa.pem", SigningKeys.Rsa().Pem);
        _dir.Write("rsa8.pem", SigningKeys.Rsa(pkcs8: true).Pem);
        _dir.Write("ed.pem", SigningKeys.Ed25519().Pem);

        var result = Load("""
              dkim:
                - { domain: example.test, selector: s1, key: rsa.pem }
                - { domain: other.test, selector: s2, key: rsa8.pem }
                - { domain: ed.test, selector: e1, key: ed.pem }
              arc: { domain: example.test, selector: arc1, key: rsa.pem }
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var signing = result.Config!.Signing;
        Assert.Equal(["rsa-sha256", "rsa-sha256", "ed25519-sha256"], signing.Dkim.Select(k => k.AlgorithmName));
        Assert.Equal("arc1", signing.Arc!.Selector);
        Assert.Contains(Path.Combine(_dir.Path, "rsa.pem"), result.Config.Dependencies); // reloaded when the key file changes
    }

    [Fact]
    public void A_subdomain_author_uses_its_parent_domains_key_and_an_unrelated_one_none()
    {
        _dir.Write("rsa.pem", SigningKeys.Rsa().Pem);
        var signing = Load("  dkim: [{ domain: example.test, selector: s1, key: rsa.pem }]\n").Config!.Signing;

        Assert.Equal("example.test", signing.DkimKeyFor("News.Example.Test")!.Domain);
        Assert.Null(signing.DkimKeyFor("example.org"));
        Assert.Null(signing.DkimKeyFor("test"));
    }

    [Theory]
    [InlineData("missing.pem", "cannot read the key")]
    [InlineData("weak.pem", "1024 bits is too weak")]
    [InlineData("garbage.pem", "holds no RSA or Ed25519 private key")]
    public void A_key_that_cannot_sign_is_an_error_at_its_line(string file, string expected)
    {
        _dir.Write("weak.pem", SigningKeys.Rsa(1024).Pem);
        _dir.Write("garbage.pem", "not a key\n");

        var result = Load($"  dkim:\n    - {{ domain: example.test, selector: s1, key: {file} }}\n");

        var error = Assert.Single(result.Errors);
        Assert.Contains(expected, error.Message);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void Two_keys_for_one_domain_an_incomplete_entry_and_a_bad_selector_are_each_reported()
    {
        _dir.Write("rsa.pem", SigningKeys.Rsa().Pem);

        var result = Load("""
              dkim:
                - { domain: example.test, selector: s1, key: rsa.pem }
                - { domain: example.test, selector: s2, key: rsa.pem }
                - { domain: other.test, key: rsa.pem }
                - { domain: third.test, selector: "a b", key: rsa.pem }
            """);

        Assert.Equal(3, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.Message.Contains("two DKIM keys for example.test"));
        Assert.Contains(result.Errors, e => e.Message.Contains("needs domain, selector and key"));
        Assert.Contains(result.Errors, e => e.Message.Contains("must be DNS labels"));
    }

    public void Dispose() => _dir.Dispose();
}
