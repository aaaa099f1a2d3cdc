using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Hosting;

namespace Strata.Cli.Tests;

/// <summary>Every module endpoint is in its module's OpenAPI document and reachable through the gateway's routes.</summary>
public sealed class OpenApiTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private IEnumerable<(string Module, string Pattern, string Method)> ModuleEndpoints() =>
        fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Module: e.Metadata.GetMetadata<IEndpointGroupNameMetadata>()?.EndpointGroupName, e))
            .Where(p => p.Module is not null)
            .SelectMany(p => (p.e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m =>
                // A group's root ("/v2" + "") has a trailing slash in its raw pattern; OpenAPI and routing treat it as "/v2".
                // OpenAPI has no catch-all parameter: "{**path}" is documented as "{path}".
                (p.Module!, "/" + p.e.RoutePattern.RawText!.Trim('/').Replace("{**", "{", StringComparison.Ordinal), m)));

    [Fact]
    public void Modules_EveryServiceModule_HasEndpoints() =>
        Assert.Equal(StrataModules.All.Select(m => m.Name).Order(), ModuleEndpoints().Select(e => e.Module).Distinct().Order());

    [Theory]
    [InlineData(ModuleNames.Events)]
    [InlineData(ModuleNames.Data)]
    [InlineData(ModuleNames.Features)]
    [InlineData(ModuleNames.Registry)]
    [InlineData(ModuleNames.Training)]
    [InlineData(ModuleNames.Serving)]
    public async Task OpenApiDocument_Module_ListsEveryEndpointOfTheModule(string module)
    {
        using var document = JsonDocument.Parse(await fixture.Http.GetStringAsync($"/openapi/{module}.json"));
        var paths = document.RootElement.GetProperty("paths");
        var endpoints = ModuleEndpoints().Where(e => e.Module == module).ToList();
        Assert.NotEmpty(endpoints);
        foreach (var (_, pattern, method) in endpoints)
        {
            Assert.True(paths.TryGetProperty(pattern, out var operations), $"{pattern} is missing from /openapi/{module}.json");
            Assert.True(operations.TryGetProperty(method.ToLowerInvariant(), out _), $"{method} {pattern} is missing from /openapi/{module}.json");
        }
        foreach (var path in paths.EnumerateObject())
        {
            Assert.Contains(endpoints, e => e.Pattern == path.Name);
        }
    }

    [Fact]
    public void GatewayRoutes_EveryEndpoint_IsRoutedToItsModule()
    {
        foreach (var (module, pattern, _) in ModuleEndpoints())
        {
            var routes = StrataModules.All.Single(m => m.Name == module).GatewayPatterns;
            Assert.True(routes.Any(r => Covers(r, pattern)), $"{pattern} of {module} is not routed by the gateway");
            foreach (var other in StrataModules.All.Where(m => m.Name != module))
            {
                Assert.False(other.GatewayPatterns.Any(r => Covers(r, pattern)), $"{pattern} of {module} is also routed to {other.Name}");
            }
        }
        foreach (var module in StrataModules.All)
        {
            Assert.Contains($"/openapi/{module.Name}.json", module.GatewayPatterns);
        }
    }

    private static bool Covers(string route, string pattern) =>
        route.EndsWith("/{**rest}", StringComparison.Ordinal)
            ? pattern.StartsWith(route[..^"{**rest}".Length], StringComparison.Ordinal)
            : route == pattern;
}
