using System.CommandLine;
using System.Diagnostics;
using Gateway.Cli;

namespace Gateway.Tests.Support;

/// <summary>Runs the gateway's command line in process, capturing what it prints.</summary>
public static class CliRunner
{
    public static (int Exit, string Out, string Err) Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = GatewayCommandLine.Build(stdout, stderr).Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs the gateway as its own process (dotnet exec gateway.dll ...) until it exits: for what must not happen in
    /// the test host (a stack overflow ends a process) and for exit codes of `run`. Killed after 60 s.
    /// </summary>
    public static async Task<(int Exit, string Out, string Err)> RunProcessAsync(string workingDirectory, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", ["exec", dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
