using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Admin;

/// <summary>
/// <c>GET /health/live</c> (the process answers) and <c>GET /health/ready</c> (it can take mail: 200, or 503 with a
/// JSON body naming each check that is not ready).
/// </summary>
public sealed class HealthEndpoints(GatewayHealth health) : IAdminEndpoints
{
    private static readonly JsonWriterOptions Json = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", context => WriteAsync(context, 200, w => w.WriteString("status", "live")));
        routes.MapGet("/health/ready", async context =>
        {
            var checks = await health.CheckAsync(context.RequestAborted).ConfigureAwait(false);
            var ready = checks.All(c => c.Ready);
            await WriteAsync(context, ready ? 200 : 503, w =>
            {
                w.WriteString("status", ready ? "ready" : "not ready");
                w.WriteStartArray("not_ready");
                foreach (var c in checks.Where(c => !c.Ready))
                    w.WriteStringValue($"{c.Name}: {c.Detail}");
                w.WriteEndArray();
                w.WriteStartObject("checks");
                foreach (var c in checks)
                {
                    w.WriteStartObject(c.Name);
                    w.WriteBoolean("ready", c.Ready);
                    w.WriteString("detail", c.Detail);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }).ConfigureAwait(false);
        });
    }

    private static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Json))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
