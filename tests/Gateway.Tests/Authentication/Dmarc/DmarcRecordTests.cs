using Gateway.Authentication.Dmarc;

namespace Gateway.Tests.Authentication.Dmarc;

public sealed class DmarcRecordTests
{
    [Fact]
    public void Every_known_tag_is_read()
    {
        Assert.True(DmarcRecord.TryParse(
            "v=DMARC1; p=quarantine; sp=reject; np=none; pct=25; adkim=s; aspf=s; rua=mailto:a@example.com!10m, mailto:b@example.com; ruf=mailto:f@example.com; fo=1:d; rf=afrf; ri=3600",
            out var r, out var error), error);
        Assert.Equal(DmarcPolicy.Quarantine, r!.Policy);
        Assert.Equal(DmarcPolicy.Reject, r.SubdomainPolicy);
        Assert.Equal(DmarcPolicy.None, r.NonExistentPolicy);
        Assert.Equal(25, r.Percent);
        Assert.Equal(AlignmentMode.Strict, r.DkimAlignment);
        Assert.Equal(AlignmentMode.Strict, r.SpfAlignment);
        Assert.Equal(["mailto:a@example.com!10m", "mailto:b@example.com"], r.AggregateReportUris);
        Assert.Equal(["mailto:f@example.com"], r.FailureReportUris);
        Assert.Equal("1:d", r.FailureOptions);
        Assert.Equal(3600, r.ReportInterval);
        Assert.False(r.PolicyImplied);
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Defaults_apply_when_tags_are_absent()
    {
        Assert.True(DmarcRecord.TryParse("v=DMARC1; p=none", out var r, out _));
        Assert.Null(r!.SubdomainPolicy);
        Assert.Null(r.NonExistentPolicy);
        Assert.Equal(100, r.Percent);
        Assert.Equal(AlignmentMode.Relaxed, r.DkimAlignment);
        Assert.Equal(AlignmentMode.Relaxed, r.SpfAlignment);
        Assert.Equal(86400, r.ReportInterval);
        Assert.Equal("0", r.FailureOptions);
    }

    [Theory]
    [InlineData("v=DMARC1; p=reject; pct=101", "pct")]
    [InlineData("v=DMARC1; p=reject; pct=5.5", "pct")]
    [InlineData("v=DMARC1; p=reject; adkim=relaxed", "adkim")]
    [InlineData("v=DMARC1; p=reject; aspf=x", "aspf")]
    [InlineData("v=DMARC1; p=reject; ri=daily", "ri")]
    [InlineData("v=DMARC1; p=reject; fo=2", "fo")]
    [InlineData("v=DMARC1; p=reject; rf=iodef", "rf")]
    [InlineData("v=DMARC1; p=reject; np=bogus", "np")]
    [InlineData("v=DMARC1; p=reject; rua=not a uri", "rua")]
    public void Bad_values_of_optional_tags_fall_back_to_defaults_with_a_warning(string text, string tag)
    {
        Assert.True(DmarcRecord.TryParse(text, out var r, out _));
        Assert.Equal(DmarcPolicy.Reject, r!.Policy);
        Assert.Equal(100, r.Percent);
        Assert.Equal(AlignmentMode.Relaxed, r.DkimAlignment);
        Assert.Null(r.NonExistentPolicy);
        Assert.Contains(r.Warnings, w => w.Contains(tag, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("v=DMARC1")]
    [InlineData("v=DMARC1; p=reject; sp=maybe")]
    [InlineData("v=DMARC1; p=")]
    [InlineData("v=DMARC1; p=reject-all; rua=nonsense")]
    [InlineData("v=spf1 -all")]
    [InlineData("p=reject; v=DMARC1")]
    public void Records_without_a_usable_policy_are_refused(string text)
    {
        Assert.False(DmarcRecord.TryParse(text, out var r, out var error));
        Assert.Null(r);
        Assert.NotNull(error);
    }

    [Fact]
    public void A_bad_policy_with_a_valid_rua_is_taken_as_p_none()
    {
        Assert.True(DmarcRecord.TryParse("v=DMARC1; p=reject; sp=hold; rua=mailto:r@example.com", out var r, out _));
        Assert.Equal(DmarcPolicy.None, r!.Policy);
        Assert.Null(r.SubdomainPolicy);
        Assert.True(r.PolicyImplied);
    }

    [Fact]
    public void The_first_of_a_repeated_tag_counts()
    {
        Assert.True(DmarcRecord.TryParse("v=DMARC1; p=reject; p=none", out var r, out _));
        Assert.Equal(DmarcPolicy.Reject, r!.Policy);
        Assert.Contains(r.Warnings, w => w.Contains("repeated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("v=DMARC1; p=none", true)]
    [InlineData("v=DMARC1", true)]
    [InlineData(" v = DMARC1 ;p=none", true)]
    [InlineData("v=DMARC10; p=none", false)]
    [InlineData("v=dmarc1; p=none", false)]
    [InlineData("v=spf1 include:example.com", false)]
    [InlineData("p=none; v=DMARC1", false)]
    public void Only_records_starting_with_v_DMARC1_are_dmarc_records(string text, bool expected)
    {
        Assert.Equal(expected, DmarcRecord.IsDmarcRecord(text));
    }
}
