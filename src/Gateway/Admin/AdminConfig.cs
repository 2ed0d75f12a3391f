using System.Net;

namespace Gateway.Admin;

/// <summary>gateway.yaml's <c>admin</c> section: where the admin listener (metrics, health) listens. Absent: no listener.</summary>
public sealed record AdminConfig(IReadOnlyList<IPEndPoint> Listen)
{
    public static readonly IPEndPoint DefaultEndpoint = new(IPAddress.Loopback, 8025);
}
