namespace Gateway.Authentication.Spf;

/// <summary>Settings of the SPF checker.</summary>
public sealed class SpfOptions
{
    /// <summary>The receiving host's name, for the <c>%{r}</c> macro of explanations (RFC 7208 7.2).</summary>
    public string ReceivingHost { get; init; } = "unknown";

    /// <summary>The explanation of a fail whose record has no usable exp= (an explanation string: macros allowed).</summary>
    public string DefaultExplanation { get; init; } = "%{i} is not one of %{d}'s designated mail servers";

    /// <summary>The clock behind the <c>%{t}</c> macro.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
