namespace Gateway.Tests.Admin;

/// <summary>
/// The metrics are process-wide (one gateway per process in production): tests that count them run alone, not beside
/// tests whose gateways would add to the same counters.
/// </summary>
[CollectionDefinition("metrics", DisableParallelization = true)]
public sealed class MetricsCollection;
