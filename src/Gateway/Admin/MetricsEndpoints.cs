using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Admin;

/// <summary><c>GET /metrics</c>: every <see cref="GatewayMetrics"/> metric in the Prometheus text format.</summary>
public sealed class MetricsEndpoints(Func<Configuration.GatewayConfig> config) : IAdminEndpoints
{
    public void Map(IEndpointRouteBuilder routes) => routes.MapGet("/metrics", async context =>
    {
        GatewayMetrics.QuarantineMessages.Set(CountQuarantined(config().Quarantine.Directory));
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await GatewayMetrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    });

    private static int CountQuarantined(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
            return 0;
        try
        {
            return Directory.EnumerateFiles(directory, "*.json").Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
