using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The <c>gateway</c> command line: run, check (and --help, --version from System.CommandLine).</summary>
public static class GatewayCommandLine
{
    public static RootCommand Build(TextWriter? output = null, TextWriter? error = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;

        var runConfig = ConfigOption();
        var run = new Command("run", "Run the gateway: accept SMTP on server.listen and forward to the upstream") { runConfig };
        run.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(runConfig)!, stdout, stderr, cancellationToken));

        var checkConfig = ConfigOption();
        var check = new Command("check", "Validate the configuration: print every error with file, line and column; exit 1 on any") { checkConfig };
        check.SetAction(parse => CheckCommand.Run(parse.GetValue(checkConfig)!, stdout, stderr));

        return new RootCommand("Gateway: an SMTP security filtering proxy for the edge of a mail system") { run, check };
    }

    private static Option<string> ConfigOption() => new("--config", "-c")
    {
        Description = "The configuration file",
        DefaultValueFactory = _ => "gateway.yaml",
    };
}
