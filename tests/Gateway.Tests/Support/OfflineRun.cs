using Gateway.Cli;
using Gateway.Configuration;
using Gateway.Dns;

namespace Gateway.Tests.Support;

/// <summary>Runs one message through a configuration offline, with DNS from memory: the code path of <c>gateway explain</c>.</summary>
public static class OfflineRun
{
    public static GatewayConfig Config(string yaml, TempDirectory directory)
    {
        var text = yaml + "\nrelay: { domains: [example.test] }\nupstream: { directory: out }\nquarantine: { directory: q }\nserver: { hostname: mx.test.example }\n";
        var result = ConfigLoader.Load(text, "gateway.yaml", directory.Path);
        if (!result.IsValid)
            throw new InvalidOperationException(string.Join("\n", result.Errors));
        return result.Config!;
    }

    public static Task<ExplainCommand.Report> RunAsync(GatewayConfig config, IDnsResolver dns, string message,
        string clientIp = "192.0.2.10", string from = "alice@sender.test", string helo = "mail.sender.test") =>
        ExplainCommand.ExplainAsync(config, new ExplainCommand.Options("", "message.eml", clientIp, helo, from, ["bob@example.test"], Json: false, Dns: dns),
            System.Text.Encoding.UTF8.GetBytes(message), CancellationToken.None);
}
