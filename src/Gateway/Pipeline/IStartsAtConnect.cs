
namespace Gateway.Pipeline;

/// <summary>
/// A filter with work to start as soon as the client is known (DNS list lookups, reverse DNS), wherever it is
/// placed: the work runs while the session goes on, and the phase that decides awaits the same task. Called once per
/// configured filter when the connection is accepted (unless a PROXY header may still change the client) and again
/// at the connect phase; it must be idempotent per client address and must not throw.
/// </summary>
public interface IStartsAtConnect
{
    void StartAtConnect(SessionState session);
}
