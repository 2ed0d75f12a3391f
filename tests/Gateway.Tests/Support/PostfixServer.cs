using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Support;

/// <summary>
/// A private Postfix (Debian's postfix package, which scripts/test installs without configuring the system's): its
/// own configuration, queue and data directories in a temporary directory, smtpd on a loopback port chosen at run
/// time, relaying everything from 127.0.0.0/8 to <c>relayhost</c>, with milters per client address
/// (<c>smtpd_milter_maps</c>) so that one instance serves tests that need different milters. Runs as root with
/// Postfix's own mail_owner and setgid_group. Missing Postfix fails the test: it is never skipped.
/// </summary>
public sealed class PostfixServer : IDisposable
{
    private readonly string _directory;

    private Process? _master;

    private PostfixServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    /// <summary>The smtpd port.</summary>
    public int Port { get; }

    public string ConfigDirectory => Path.Combine(_directory, "etc");

    public string QueueDirectory => Path.Combine(_directory, "queue");

    public string MailLog => Path.Combine(_directory, "maillog");

    /// <summary>Messages in the hold queue (a milter's SMFIR_QUARANTINE puts them there).</summary>
    public IReadOnlyList<string> Held => Directory.Exists(Path.Combine(QueueDirectory, "hold"))
        ? [.. Directory.EnumerateFiles(Path.Combine(QueueDirectory, "hold"), "*", SearchOption.AllDirectories)]
        : [];

    /// <param name="relayhost">Where accepted mail goes ("127.0.0.1:2525").</param>
    /// <param name="milter">The milter for every client ("inet:127.0.0.1:11332").</param>
    /// <param name="milterByClient">Another milter for some clients (CIDR → milter list, Postfix's smtpd_milter_maps).</param>
    public static PostfixServer Start(string relayhost, string milter, IReadOnlyDictionary<string, string>? milterByClient = null)
    {
        if (!File.Exists("/usr/sbin/postfix"))
            throw new InvalidOperationException("Postfix is not installed: scripts/test installs it (apt-get install postfix)");
        var directory = Path.Combine(Path.GetTempPath(), "gateway-postfix-" + Guid.NewGuid().ToString("N")[..12]);
        var etc = Path.Combine(directory, "etc");
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(etc);
        Directory.CreateDirectory(Path.Combine(directory, "queue"));
        Directory.CreateDirectory(data);
        // Postfix's processes run as the postfix user and must reach their queue directory.
        Run("chmod", ["755", directory]);
        Run("chown", ["postfix", data]);
        var port = FreePort();
        var host = relayhost.Split(':');
        var maps = Path.Combine(etc, "milter_maps");
        File.WriteAllLines(maps, (milterByClient ?? new Dictionary<string, string>()).Select(kv => $"{kv.Key} {kv.Value}"));
        File.WriteAllText(Path.Combine(etc, "main.cf"), $"""
            compatibility_level = 3.6
            queue_directory = {directory}/queue
            data_directory = {data}
            mail_owner = postfix
            setgid_group = postdrop
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            myhostname = mta.test
            mydomain = test
            mydestination =
            mynetworks = 127.0.0.0/8
            relayhost = [{host[0]}]:{host[1]}
            smtpd_relay_restrictions = permit_mynetworks, reject
            alias_maps =
            alias_database =
            maillog_file = {directory}/maillog
            maillog_file_prefixes = {directory}
            smtpd_peername_lookup = no
            smtp_dns_support_level = disabled
            smtputf8_enable = no
            smtpd_milters = {milter}
            smtpd_milter_maps = cidr:{maps}
            non_smtpd_milters =
            milter_default_action = tempfail
            milter_protocol = 6
            milter_connect_timeout = 5s
            default_process_limit = 20
            """);
        File.WriteAllText(Path.Combine(etc, "master.cf"), $"""
            127.0.0.1:{port} inet n - n - - smtpd
            pickup unix n - n 60 1 pickup
            cleanup unix n - n - 0 cleanup
            qmgr unix n - n 300 1 qmgr
            rewrite unix - - n - - trivial-rewrite
            bounce unix - - n - 0 bounce
            defer unix - - n - 0 bounce
            trace unix - - n - 0 bounce
            verify unix - - n - 1 verify
            flush unix n - n 1000? 0 flush
            proxymap unix - - n - - proxymap
            smtp unix - - n - - smtp
            relay unix - - n - - smtp
            showq unix n - n - - showq
            error unix - - n - - error
            retry unix - - n - - error
            discard unix - - n - - discard
            anvil unix - - n - 1 anvil
            scache unix - - n - 1 scache
            postlog unix-dgram n - n - 1 postlogd
            """);
        var server = new PostfixServer(directory, port);
        try
        {
            // In the foreground, as the test's child: it is reaped when it stops, and cannot outlive a crashed run's parent for long.
            var info = new ProcessStartInfo("/usr/sbin/postfix") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["-c", etc, "start-fg"])
                info.ArgumentList.Add(argument);
            server._master = Process.Start(info) ?? throw new InvalidOperationException("postfix start-fg did not start");
            server._master.OutputDataReceived += (_, _) => { };
            server._master.ErrorDataReceived += (_, _) => { };
            server._master.BeginOutputReadLine();
            server._master.BeginErrorReadLine();
            server.WaitUntilListening();
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Postfix's master starts smtpd's listener in the background: ready once it accepts a connection.</summary>
    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && _master is { HasExited: false })
            {
                Thread.Sleep(50); // polling for readiness, as pg_ctl -w does
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"Postfix did not listen on {Port} within 30 s: {e.Message}\n{Log()}");
            }
        }
    }

    /// <summary>The instance's mail log (for failure messages).</summary>
    public string Log() => File.Exists(MailLog) ? File.ReadAllText(MailLog) : "(no mail log)";

    private static string Run(string file, IReadOnlyList<string> arguments) => Programs.Run(file, arguments);

    /// <summary>Stops the master (and with it every Postfix process of this instance), waits for it to go, removes the directory.</summary>
    public void Dispose()
    {
        try
        {
            Run("/usr/sbin/postfix", ["-c", ConfigDirectory, "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Not running.
        }
        if (_master is { } master)
        {
            if (!master.WaitForExit(20_000))
                master.Kill(entireProcessTree: true);
            master.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
