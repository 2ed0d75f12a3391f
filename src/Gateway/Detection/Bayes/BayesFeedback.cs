using Gateway.Configuration;

namespace Gateway.Detection.Bayes;

/// <summary>
/// Learning from outside the filter: a quarantined message an administrator releases is learned as ham (the
/// quarantine's release calls <see cref="LearnAsync(GatewayConfig, byte[], LearnKind, CancellationToken)"/>),
/// and reports of missed spam go through <c>gateway learn --spam</c>, which uses the same code.
/// </summary>
public static class BayesFeedback
{
    /// <summary>Learns a released message as ham; the line to print (an unreachable store does not undo the release).</summary>
    public static async Task<string> LearnReleasedAsync(GatewayConfig config, byte[] message, CancellationToken cancellationToken)
    {
        try
        {
            return await LearnAsync(config, message, LearnKind.Ham, cancellationToken).ConfigureAwait(false) switch
            {
                null => "bayes: no bayes filter configured; nothing learned",
                LearnOutcome.Moved => "bayes: learned as ham (it had been learned as spam)",
                LearnOutcome.AlreadyKnown => "bayes: already learned as ham",
                _ => "bayes: learned as ham",
            };
        }
        catch (Exception e) when (BayesStatistics.IsStoreFailure(e))
        {
            return $"bayes: could not learn it as ham: {e.Message}";
        }
    }

    /// <summary>Learns (or forgets) one message with the configuration's bayes store.</summary>
    /// <returns>What happened, or null when the configuration has no bayes filter.</returns>
    public static async Task<LearnOutcome?> LearnAsync(GatewayConfig config, byte[] message, LearnKind kind, CancellationToken cancellationToken)
    {
        if (BayesSetup.Find(config) is not { } setup || setup.Problem(config.State) is not null)
            return null;
        var prepared = BayesMessage.Read(new MemoryStream(message, writable: false), setup.Tokenizer);
        await using var store = setup.OpenStore(config.State);
        var outcomes = await store.LearnAsync([new LearnItem(prepared.Digest, kind, prepared.TokenIds)], cancellationToken).ConfigureAwait(false);
        if (setup.StatisticsIfLoaded(config.State) is { } statistics)
            await statistics.RefreshAsync().ConfigureAwait(false);
        return outcomes[0];
    }
}
