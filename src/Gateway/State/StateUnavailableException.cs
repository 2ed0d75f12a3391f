namespace Gateway.State;

/// <summary>The state backend did not answer (unreachable, too slow, or failing); the check applies <c>on_backend_error</c>.</summary>
public sealed class StateUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
