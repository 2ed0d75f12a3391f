namespace Gateway.Authentication.Spf;

/// <summary>Ends a check at once with a permerror or temperror (RFC 7208 2.6.6, 2.6.7); the message is the problem.</summary>
internal sealed class SpfAbortException(SpfResult result, string problem) : Exception(problem)
{
    public SpfResult Result { get; } = result;

    public static SpfAbortException Perm(string problem) => new(SpfResult.PermError, problem);

    public static SpfAbortException Temp(string problem) => new(SpfResult.TempError, problem);
}
