namespace Gateway.Authentication.Dkim;

/// <summary>The <c>dkim=</c> result values of RFC 8601 section 2.7.1.</summary>
public enum DkimResult
{
    None,
    Pass,
    Fail,
    Policy,
    Neutral,
    TempError,
    PermError,
}
