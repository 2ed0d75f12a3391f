using Gateway.Tests.Support;

namespace Gateway.Tests.State;

/// <summary>One redis-server for the tests of a class; each test uses its own key prefix.</summary>
public sealed class RedisFixture : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();

    public void Dispose() => Server.Dispose();
}
