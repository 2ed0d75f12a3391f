using System.Net.Sockets;

namespace Gateway.Admin;

/// <summary>Socket failures in the plain words an administrator searches for.</summary>
public static class SocketErrors
{
    public static string Describe(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use",
        SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        SocketError.AddressNotAvailable => "no such address on this machine",
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
        _ => e.Message.ToLowerInvariant(),
    };
}
