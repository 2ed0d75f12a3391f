// bench/IdleSessions: opens N SMTP sessions at once to host:port and keeps them idle, for bench/run-benchmark's
// memory measurement with many open connections. Each session is timed from the start of its connect to the end of
// its banner line. Prints one line "banners=N failed=F median_ms=.. p99_ms=.. max_ms=.." once every session has its
// banner (or failed), then holds them all open until its standard input closes, then says QUIT on each.
// Usage: IdleSessions HOST PORT COUNT
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

if (args.Length != 3 || !IPAddress.TryParse(args[0], out var host) || !int.TryParse(args[1], out var port) || !int.TryParse(args[2], out var count))
{
    Console.Error.WriteLine("usage: IdleSessions HOST PORT COUNT");
    return 2;
}
var sessions = new Socket?[count];
var times = new double[count];
var failures = 0;
using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = count, CancellationToken = CancellationToken.None },
    async (i, _) =>
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var clock = Stopwatch.StartNew();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(host, port), limit.Token);
            var buffer = new byte[512];
            var read = 0;
            while (read == 0 || buffer[read - 1] != (byte)'\n')
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, limit.Token);
                if (n == 0 || (read += n) == buffer.Length)
                    throw new IOException("no banner");
            }
            if (buffer[0] != (byte)'2')
                throw new IOException("refused");
            times[i] = clock.Elapsed.TotalMilliseconds;
            sessions[i] = socket;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            Interlocked.Increment(ref failures);
            times[i] = double.NaN;
            socket.Dispose();
        }
    });
var ok = times.Where(t => !double.IsNaN(t)).Order().ToArray();
double At(double q) => ok.Length == 0 ? double.NaN : ok[Math.Min(ok.Length - 1, (int)(q * ok.Length))];
Console.WriteLine(FormattableString.Invariant($"banners={ok.Length} failed={failures} median_ms={At(0.5):0.0} p99_ms={At(0.99):0.0} max_ms={(ok.Length > 0 ? ok[^1] : double.NaN):0.0}"));
await Console.Out.FlushAsync();
await Console.In.ReadToEndAsync();
foreach (var socket in sessions)
{
    if (socket is null)
        continue;
    try
    {
        socket.Send("QUIT\r\n"u8);
        socket.Shutdown(SocketShutdown.Send);
    }
    catch (SocketException)
    {
    }
    socket.Dispose();
}
return 0;
