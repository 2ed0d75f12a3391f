namespace Gateway.Configuration;

/// <summary>One problem found in a configuration file, with where it is.</summary>
public sealed record ConfigError(string File, long Line, long Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: error: {Message}";
}

/// <summary>The outcome of loading a configuration: a config when there were no errors, else every error found.</summary>
public sealed record ConfigResult(GatewayConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    public bool IsValid => Config is not null && Errors.Count == 0;
}
