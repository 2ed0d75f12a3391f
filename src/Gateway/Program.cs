using System.CommandLine;
using Gateway.Cli;

namespace Gateway;

public static class Program
{
    public static Task<int> Main(string[] args) => GatewayCommandLine.Build().Parse(args).InvokeAsync();
}
