using Gateway.Authentication.Arc;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Gateway.Tests.Authentication.Arc;

/// <summary>What <see cref="ArcChecker"/> adds to MimeKit, on the suite's messages and keys.</summary>
public sealed class ArcCheckerTests
{
    private static ArcSuiteCase Suite(string id) => ArcSuite.Get(id);

    private static Task<ArcOutcome> CheckAsync(string id, IDkimPublicKeyLocator? keys = null, ArcOptions? options = null,
        CancellationToken ct = default)
    {
        var test = Suite(id);
        var checker = new ArcChecker(keys ?? new SuiteKeyLocator(test.TxtRecords), options ?? ArcOptions.Default);
        return checker.VerifyAsync(ArcConformanceTests.Parse(test), ct);
    }

    [Fact]
    public async Task A_message_without_ARC_headers_is_none_with_no_hops()
    {
        var outcome = await CheckAsync("cv_base2");
        Assert.Equal(ArcResult.None, outcome.Result);
        Assert.Empty(outcome.Hops);
        Assert.Null(outcome.Reason);
    }

    [Fact]
    public async Task A_passing_chain_reports_its_hops_oldest_first()
    {
        var outcome = await CheckAsync("cv_pass_i2_1");
        Assert.Equal(ArcResult.Pass, outcome.Result);
        Assert.Null(outcome.Reason);
        Assert.Equal([1, 2], outcome.Hops.Select(h => h.Instance));
        Assert.All(outcome.Hops, h => Assert.Equal("example.org", h.SealDomain));
        Assert.All(outcome.Hops, h => Assert.Equal("dummy", h.Selector));
        Assert.StartsWith("i=1; lists.example.org;", outcome.Hops[0].AuthenticationResults);
        Assert.StartsWith("i=2;", outcome.Hops[1].AuthenticationResults);
    }

    [Fact]
    public async Task Oldest_pass_is_zero_when_every_older_message_signature_verifies()
    {
        var outcome = await CheckAsync("cv_pass_i2_1");
        Assert.Equal(0, outcome.OldestPass);
    }

    [Fact]
    public async Task Oldest_pass_names_the_oldest_hop_whose_message_signature_still_verifies()
    {
        // The chain passes (only the newest AMS counts) but the i=1 AMS no longer verifies.
        var outcome = await CheckAsync("cv_pass_i2_1_ams1_invalid");
        Assert.Equal(ArcResult.Pass, outcome.Result);
        Assert.Equal(2, outcome.OldestPass);
    }

    [Fact]
    public async Task Oldest_pass_is_left_out_when_not_asked_for()
    {
        var outcome = await CheckAsync("cv_pass_i2_1", options: ArcOptions.Default with { ComputeOldestPass = false });
        Assert.Equal(ArcResult.Pass, outcome.Result);
        Assert.Null(outcome.OldestPass);
    }

    [Fact]
    public async Task A_failing_chain_gives_a_reason_and_no_oldest_pass()
    {
        var outcome = await CheckAsync("cv_fail_i2_as1_invalid");
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.Contains("ARC-Seal i=1 did not verify", outcome.Reason);
        Assert.Null(outcome.OldestPass);
        Assert.False(outcome.TemporaryFailure);
    }

    [Fact]
    public async Task A_temporary_key_lookup_failure_fails_the_chain_and_says_so()
    {
        var outcome = await CheckAsync("cv_pass_i1_1", new ThrowingLocator(new KeyLookupTemporaryException("SERVFAIL")));
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.True(outcome.TemporaryFailure);
        Assert.Contains("dummy._domainkey.example.org: key lookup failed temporarily (SERVFAIL)", outcome.Reason);
    }

    [Fact]
    public async Task A_missing_key_fails_the_chain_without_being_temporary()
    {
        var outcome = await CheckAsync("cv_pass_i1_1", new ThrowingLocator(new KeyNotFoundException("NXDOMAIN")));
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.False(outcome.TemporaryFailure);
        Assert.Contains("no usable key", outcome.Reason);
    }

    [Fact]
    public async Task A_512_bit_key_never_verifies_whatever_the_locator()
    {
        // The test locator serves the 512-bit key as is; the rule is the checker's.
        var outcome = await CheckAsync("as_fields_b_512");
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.Contains("512-bit RSA key (minimum 1024)", outcome.Reason);
    }

    [Fact]
    public async Task The_minimum_key_size_is_an_option()
    {
        Assert.Equal(ArcResult.Pass, (await CheckAsync("as_fields_b_1024")).Result);
        var stricter = await CheckAsync("as_fields_b_1024", options: ArcOptions.Default with { MinimumRsaBits = 2048 });
        Assert.Equal(ArcResult.Fail, stricter.Result);
        Assert.Contains("1024-bit RSA key (minimum 2048)", stricter.Reason);
    }

    [Theory]
    [InlineData(0, 1024)]
    [InlineData(51, 1024)]
    [InlineData(50, 512)]
    public void Options_that_would_break_RFC_8617_or_8301_are_refused(int maxInstances, int minimumRsaBits)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ArcChecker(new SuiteKeyLocator(new Dictionary<string, string>()), new ArcOptions(maxInstances, minimumRsaBits)));
    }

    [Fact]
    public async Task Rsa_sha1_never_verifies()
    {
        var outcome = await CheckAsync("as_fields_a_sha1");
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.Contains("rsa-sha1", outcome.Reason);
    }

    [Fact]
    public async Task More_sets_than_the_limit_fail_before_any_signature_is_checked()
    {
        var locator = new CountingLocator(new SuiteKeyLocator(Suite("cv_pass_i2_1").TxtRecords));
        var outcome = await CheckAsync("cv_pass_i2_1", locator, ArcOptions.Default with { MaxInstances = 1 });
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.Contains("more than 1 ARC sets", outcome.Reason);
        Assert.Equal(2, outcome.Hops.Count);
        Assert.Equal(0, locator.Calls);
    }

    [Fact]
    public async Task A_message_signature_that_signs_arc_seal_fails()
    {
        var outcome = await CheckAsync("ams_fields_h_includes_as");
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.Contains("signs ARC-Seal", outcome.Reason);
    }

    [Theory]
    [InlineData("ARC-Seal: i=1; ;;; =; b")]
    [InlineData("ARC-Seal: nonsense")]
    [InlineData("ARC-Message-Signature: i=99999999999999999999; a=rsa-sha256")]
    [InlineData("ARC-Authentication-Results: i=1")]
    public async Task Malformed_ARC_headers_fail_without_throwing(string header)
    {
        var message = MimeMessage.Load(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(
            header + "\r\nFrom: a@example.org\r\nSubject: x\r\n\r\nbody\r\n")));
        var outcome = await new ArcChecker(new ThrowingLocator(new KeyNotFoundException()), ArcOptions.Default)
            .VerifyAsync(message, CancellationToken.None);
        Assert.Equal(ArcResult.Fail, outcome.Result);
        Assert.False(string.IsNullOrEmpty(outcome.Reason));
    }

    [Fact]
    public async Task Cancellation_during_a_key_lookup_is_not_swallowed_as_a_failure()
    {
        // MimeKit catches every exception while verifying, OperationCanceledException included.
        using var cts = new CancellationTokenSource();
        var locator = new CancellingLocator(cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CheckAsync("cv_pass_i1_1", locator, ct: cts.Token));
    }

    private sealed class ThrowingLocator(Exception error) : IDkimPublicKeyLocator
    {
        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken ct = default) =>
            throw error;

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken ct = default) =>
            Task.FromException<AsymmetricKeyParameter>(error);
    }

    private sealed class CancellingLocator(CancellationTokenSource cts) : IDkimPublicKeyLocator
    {
        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken ct = default)
        {
            cts.Cancel();
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException("not cancelled");
        }

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken ct = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, ct));
    }

    private sealed class CountingLocator(IDkimPublicKeyLocator inner) : IDkimPublicKeyLocator
    {
        public int Calls { get; private set; }

        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken ct = default)
        {
            Calls++;
            return inner.LocatePublicKey(methods, domain, selector, ct);
        }

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken ct = default)
        {
            Calls++;
            return inner.LocatePublicKeyAsync(methods, domain, selector, ct);
        }
    }
}
