using Gateway.Configuration;

namespace Gateway.Cli;

public static class CheckCommand
{
    public static int Run(string configPath, TextWriter stdout, TextWriter stderr)
    {
        var result = ConfigLoader.LoadFile(configPath);
        if (!result.IsValid)
        {
            PrintErrors(result, configPath, stderr, "");
            return 1;
        }
        var config = result.Config!;
        foreach (var warning in result.Warnings)
            stderr.WriteLine(warning);
        stdout.WriteLine($"{configPath}: OK");
        stdout.WriteLine($"  listen: {(config.Server.Listen.Count == 0 ? "none (milter only)" : string.Join(", ", config.Server.Listen))}  hostname: {config.Server.Hostname}  tls: {(config.Server.Tls is null ? "off" : "STARTTLS")}");
        stdout.WriteLine($"  relay domains: {string.Join(", ", config.Relay.Domains)}  relay networks: {config.Relay.Networks.Count}");
        stdout.WriteLine(config.Upstream.Directory is { } dir
            ? $"  upstream: directory {dir}"
            : $"  upstream: {string.Join(", ", config.Upstream.Hosts)} (tls {config.Upstream.Tls.ToString().ToLowerInvariant()})");
        if (config.Admin is { } admin)
            stdout.WriteLine(AdminLine(admin));
        foreach (var route in config.Upstream.Routes.Routes)
        {
            var u = route.Upstream;
            stdout.WriteLine($"  route {route.Name}: {string.Join(", ", route.Domains)} -> " + (u.Directory is { } d ? $"directory {d}" : $"{string.Join(", ", u.Hosts)} (tls {u.Tls.ToString().ToLowerInvariant()})"));
        }
        if (config.Milter is { } milter)
            stdout.WriteLine($"  milter: {string.Join(", ", milter.Listen)}  quarantine: {milter.Quarantine.ToString().ToLowerInvariant()}");
        WarnUnreachable(config, stderr);
        return 0;
    }

    /// <summary>A warning, not an error, for each service a filter needs that does not answer now (clamd not started yet).</summary>
    private static void WarnUnreachable(GatewayConfig config, TextWriter stderr)
    {
        var checks = config.Pipeline.Phases.Values.SelectMany(p => p).Select(d => d.Filter).OfType<Pipeline.ICheckable>().Distinct().ToList();
        foreach (var warning in Task.WhenAll(checks.Select(c => c.CheckAsync(CancellationToken.None))).GetAwaiter().GetResult())
        {
            if (warning is not null)
                stderr.WriteLine($"warning: {warning}");
        }
    }

    /// <summary>"admin: http://127.0.0.1:8025 (metrics, health); web console off: no admin.users".</summary>
    private static string AdminLine(Admin.AdminConfig admin)
    {
        var scheme = admin.Tls is null ? "http" : "https";
        var where = string.Join(", ", admin.Listen.Select(ep => $"{scheme}://{ep}"));
        if (!admin.ConsoleEnabled)
            return $"  admin: {where} (metrics, health); web console off: no admin.users";
        var plain = admin.Tls is null && admin.Listen.Any(ep => !System.Net.IPAddress.IsLoopback(ep.Address))
            ? "; warning: passwords cross the network in clear text (set admin.tls)" : "";
        return $"  admin: {where} (metrics, health); web console on for {string.Join(", ", admin.Users.Select(u => u.Name))}{plain}";
    }

    /// <summary>Every error as file:line:column, then a count.</summary>
    /// <summary>The configuration, or null after printing its errors and "<paramref name="suffix"/>" (what did not happen).</summary>
    public static GatewayConfig? Load(string configPath, TextWriter stderr, string suffix = "")
    {
        var result = ConfigLoader.LoadFile(configPath);
        if (result.IsValid)
            return result.Config!;
        PrintErrors(result, configPath, stderr, suffix);
        return null;
    }

    public static void PrintErrors(ConfigResult result, string configPath, TextWriter stderr, string suffix)
    {
        foreach (var error in result.Errors)
            stderr.WriteLine(error);
        stderr.WriteLine($"{configPath}: {result.Errors.Count} error(s){suffix}");
    }
}
