namespace Gateway.Configuration;

/// <summary>One problem found in a configuration file, with where it is.</summary>
/// <param name="Level">"error", or "warning" for a setting that is valid but probably not what was meant.</param>
public sealed record ConfigError(string File, long Line, long Column, string Message, string Level = "error")
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Level}: {Message}";
}

/// <summary>The outcome of loading a configuration: a config when there were no errors, else every error found.</summary>
public sealed record ConfigResult(GatewayConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    public bool IsValid => Config is not null && Errors.Count == 0;

    /// <summary>Valid settings that are probably not what was meant (<c>gateway check</c> prints them).</summary>
    public IReadOnlyList<ConfigError> Warnings { get; init; } = [];
}
