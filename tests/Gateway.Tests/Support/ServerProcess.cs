using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Tests.Support;

/// <summary>
/// Starts a server the tests run for real (redis-server, clamd) in the foreground and waits for the line of its
/// output that says it is ready; its exit before that line, or silence past the timeout, is an error that quotes
/// what it printed.
/// </summary>
public static class ServerProcess
{
    /// <summary>Kills a server started by <see cref="Start"/> and waits (up to 20 s) until it has gone.</summary>
    public static void Kill(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(20_000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    /// <param name="installHint">What to say when the program is missing ("scripts/test installs it (...)").</param>
    public static Process Start(ProcessStartInfo info, Func<string, bool> isReady, TimeSpan timeout, string installHint)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var name = Path.GetFileName(info.FileName);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{name} is not installed: {installHint}", e);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"{name} exited: " + string.Join("\n", output)));
                return;
            }
            output.Enqueue(e.Data);
            if (isReady(e.Data))
                ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                output.Enqueue(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (!ready.Task.Wait(timeout))
                throw new InvalidOperationException($"{name} did not get ready within {timeout.TotalSeconds:0} s: " + string.Join("\n", output));
        }
        catch (AggregateException e)
        {
            throw e.InnerException!;
        }
        return process;
    }
}
