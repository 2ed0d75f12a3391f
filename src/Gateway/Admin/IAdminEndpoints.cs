using Microsoft.AspNetCore.Routing;

namespace Gateway.Admin;

/// <summary>A group of pages or endpoints served on the admin listener (metrics, health; the web console adds its own).</summary>
public interface IAdminEndpoints
{
    void Map(IEndpointRouteBuilder routes);
}
