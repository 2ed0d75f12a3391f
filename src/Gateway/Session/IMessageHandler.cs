namespace Gateway.Session;

/// <summary>What became of a message at the end of DATA: the reply, what happened upstream (or why not), who decided.</summary>
public sealed record MessageOutcome(Reply Reply, string Detail, string By, string? Kind = null)
{
    public string? QuarantineId { get; init; }
}

/// <summary>
/// Takes a message the filters let through (<see cref="DataDecision"/> without a refusal): forwards it, quarantines it,
/// or (for <c>gateway explain</c>) only notes what would happen. Never throws for a dependency's failure.
/// </summary>
public interface IMessageHandler
{
    Task<MessageOutcome> HandleAsync(Connection connection, Transaction transaction, DataDecision decision, CancellationToken cancellationToken);
}
