using System.Diagnostics;

namespace Gateway.Tests.Support;

/// <summary>Runs a program to its end (postfix, initdb, chown, 7z...) and returns what it printed, or throws saying why not.</summary>
public static class Programs
{
    public static string Run(string file, IReadOnlyList<string> arguments, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        if (workingDirectory is not null)
            info.WorkingDirectory = workingDirectory;
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish in {limit.TotalSeconds:0} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Result}{errors.Result}");
        return output.Result;
    }
}
