using Gateway.Configuration;
using Gateway.Quarantine;
using Microsoft.Extensions.Logging;

namespace Gateway.Detection.Bayes;

/// <summary>A message an administrator released from the quarantine is wanted mail: the classifier learns it as ham.</summary>
public sealed class BayesReleaseObserver(GatewayConfig config, ILogger logger) : IQuarantineReleaseObserver
{
    /// <summary>The observer when the configuration has a bayes filter; otherwise none.</summary>
    public static IReadOnlyList<IQuarantineReleaseObserver> For(GatewayConfig config, ILogger logger) =>
        BayesSetup.Find(config) is null ? [] : [new BayesReleaseObserver(config, logger)];

    public async Task MessageReleasedAsync(QuarantineEntry entry, Stream message, string by, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        await message.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        var line = await BayesFeedback.LearnReleasedAsync(config, copy.ToArray(), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("quarantine {Id} released by {By}: {Outcome}", entry.Id, by, line);
    }
}
