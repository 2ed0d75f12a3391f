namespace Gateway.Tests.Authentication.Dmarc;

/// <summary>One row of TestData/dmarc/cases.yaml (see the comment at the top of that file).</summary>
public sealed class DmarcCase
{
    public string Id { get; set; } = "";
    public string Description { get; set; } = "";
    public string Source { get; set; } = "";
    public List<string> From { get; set; } = [];
    public Dictionary<string, List<string>> Txt { get; set; } = [];
    public List<string> A { get; set; } = [];
    public List<string> Mx { get; set; } = [];
    public List<string> Fail { get; set; } = [];
    public DmarcCaseIdentity? Spf { get; set; }
    public List<DmarcCaseIdentity> Dkim { get; set; } = [];
    public int Draw { get; set; }
    public DmarcCaseExpect Expect { get; set; } = new();

    public override string ToString() => Id;
}

public sealed class DmarcCaseIdentity
{
    public string? Domain { get; set; }
    public string Result { get; set; } = "other";
}

public sealed class DmarcCaseExpect
{
    public string Result { get; set; } = "";
    public string Policy { get; set; } = "";
    public string Disposition { get; set; } = "";
    public string? PolicySource { get; set; }
    public string? OrgDomain { get; set; }
    public string? Domain { get; set; }
    public bool? SpfAligned { get; set; }
    public string? DkimAligned { get; set; }
    public string? Reason { get; set; }
}

public sealed class DmarcCaseFile
{
    public List<DmarcCase> Cases { get; set; } = [];
}
