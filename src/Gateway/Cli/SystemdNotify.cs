using System.Net.Sockets;
using System.Text;

namespace Gateway.Cli;

/// <summary>
/// Tells systemd (a unit with Type=notify) when the gateway is ready, reloading or stopping: one datagram to the
/// socket named by $NOTIFY_SOCKET, as sd_notify(3) does. Written by hand because the only package for it
/// (Microsoft.Extensions.Hosting.Systemd) requires the generic host, which the gateway does not use; the protocol is
/// one datagram of text. Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
/// </summary>
public static class SystemdNotify
{
    public static void Ready() => Send("READY=1\nSTATUS=accepting mail");

    public static void Reloading() => Send("RELOADING=1");

    public static void Stopping() => Send("STOPPING=1\nSTATUS=draining");

    private static void Send(string state)
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path) || (path[0] != '/' && path[0] != '@'))
            return;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // A leading '@' names a socket in the abstract namespace, written with a leading NUL.
            var endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
            socket.SendTo(Encoding.UTF8.GetBytes(state), endpoint);
        }
        catch (SocketException)
        {
            // systemd gone or the socket not ours to write: the gateway runs on; the unit's timeout tells the admin.
        }
    }
}
