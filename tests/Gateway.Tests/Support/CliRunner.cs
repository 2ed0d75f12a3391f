using System.CommandLine;
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
}
