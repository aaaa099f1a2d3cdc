using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Hosting;
using Strata.ServiceDefaults.Security;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>The one authorization table covers every route of every module (no route can be added unprotected), nothing
/// but health and the OpenAPI documents answers without credentials, and each role is allowed exactly its routes.</summary>
public sealed class AuthorizationTableTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private IReadOnlyList<(string Module, RouteEndpoint Endpoint, string Method)> ModuleEndpoints() =>
        [.. fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Module: e.Metadata.GetMetadata<IEndpointGroupNameMetadata>()?.EndpointGroupName, e))
            .Where(p => p.Module is not null)
            .SelectMany(p => (p.e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["ANY"])
                .Select(m => (p.Module!, p.e, m)))];

    [Fact]
    public void EveryModuleEndpoint_HasItsRowOfTheTable()
    {
        var endpoints = ModuleEndpoints();
        Assert.True(endpoints.Count > 100, $"only {endpoints.Count} endpoints found");
        foreach (var (module, endpoint, method) in endpoints)
        {
            var rule = endpoint.Metadata.GetMetadata<AccessRule>();
            Assert.True(rule is { Listed: true }, $"{method} {endpoint.RoutePattern.RawText} of {module} is not in the authorization table");
        }
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public async Task EveryOperationOfTheModulesOpenApiDocument_IsCoveredByTheTable(string module)
    {
        var table = StrataModules.All.Single(m => m.Name == module).Authorization;
        // OpenAPI has no catch-all parameter: "{**path}" is documented as "{path}".
        var documented = table.Keys.Select(k => k.Replace("{**", "{", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(await fixture.Http.GetStringAsync($"/openapi/{module}.json"));
        var operations = 0;
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                operations++;
                Assert.True(documented.Contains($"{operation.Name.ToUpperInvariant()} {path.Name}"),
                    $"{operation.Name.ToUpperInvariant()} {path.Name} (/openapi/{module}.json) has no row in {module}'s authorization table");
            }
        }
        Assert.True(operations > 0);
        // And the table names no route that does not exist (the catch-alls, "ANY", are not documented operations).
        Assert.Equal(table.Keys.Count(k => !k.StartsWith("ANY ", StringComparison.Ordinal)), operations);
    }

    public static TheoryData<string> Modules() => [.. StrataModules.All.Select(m => m.Name)];

    [Fact]
    public void RouteMissingFromTheTable_IsRefusedToEveryone()
    {
        var builder = new TestEndpointBuilder();
        builder.RequireAccess(new RouteAuthorization { ["GET /api/other"] = Permissions.Read });
        var endpoint = new RouteEndpointBuilder(_ => Task.CompletedTask, Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse("/api/new"), 0);
        endpoint.Metadata.Add(new HttpMethodMetadata(["POST"]));
        builder.Apply(endpoint);
        var rule = endpoint.Metadata.OfType<AccessRule>().Single();
        Assert.False(rule.Listed);
        Assert.Equal(Permissions.None, rule.Required);
    }

    [Fact]
    public async Task WithoutCredentials_EveryRouteButHealthAndOpenApi_Is401()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Http.BaseAddress };
        foreach (var (module, endpoint, method) in ModuleEndpoints())
        {
            var path = Fill(endpoint.RoutePattern.RawText!);
            using var request = new HttpRequestMessage(new HttpMethod(method == "ANY" ? "GET" : method), path);
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }
            using var response = await anonymous.SendAsync(request);
            if (endpoint.Metadata.GetMetadata<AccessRule>()!.IsAnonymous)
            {
                Assert.StartsWith("/v2/health/", path, StringComparison.Ordinal);
                continue;
            }
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} ({module}) answered {(int)response.StatusCode} without credentials");
            Assert.StartsWith("Bearer realm=\"strata\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
        foreach (var open in new[] { "/health/live", "/health/ready", "/openapi/serving.json", "/v2/health/live" })
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri(open, UriKind.Relative))).StatusCode);
        }
    }

    [Fact]
    public async Task Unauthenticated_And_Forbidden_AnswerInEachProtocolsShape()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Http.BaseAddress };
        using var problem = await anonymous.GetAsync(new Uri("/api/registry/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, problem.StatusCode);
        Assert.Equal("application/problem+json", problem.Content.Headers.ContentType?.MediaType);

        using var mlflow = await anonymous.GetAsync(new Uri("/api/2.0/mlflow/registered-models/search", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, mlflow.StatusCode);
        Assert.Equal("UNAUTHENTICATED", JsonDocument.Parse(await mlflow.Content.ReadAsStringAsync()).RootElement.GetProperty("error_code").GetString());

        using var v2 = await anonymous.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, v2.StatusCode);
        Assert.True(JsonDocument.Parse(await v2.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));

        using var wrong = new HttpClient { BaseAddress = fixture.Http.BaseAddress };
        wrong.DefaultRequestHeaders.Add("X-Api-Key", "strata_aaaaaaaaaa_" + new string('A', 43));
        using var invalid = await wrong.GetAsync(new Uri("/api/registry/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
        Assert.Contains("error=\"invalid_token\"", invalid.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var predictor = TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, TestKeys.Create(fixture.App.Services, "predictor"));
        using var forbidden = await predictor.PostAsync(new Uri("/api/2.0/mlflow/experiments/create", UriKind.Relative),
            new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var body = JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("PERMISSION_DENIED", body.GetProperty("error_code").GetString());
        Assert.Contains("train", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>For each role, a sample of routes it may and may not call: allowed ones never answer 401/403 (they may
    /// still refuse the input), forbidden ones answer 403.</summary>
    [Theory]
    [InlineData("reader", "GET /api/registry/models", true)]
    [InlineData("reader", "GET /api/features/views", true)]
    [InlineData("reader", "POST /api/features/historical", true)]
    [InlineData("reader", "POST /predict", false)]
    [InlineData("reader", "POST /api/data/datasets/x", false)]
    [InlineData("reader", "GET /api/events", false)]
    [InlineData("predictor", "POST /predict", true)]
    [InlineData("predictor", "POST /v2/models/seed/infer", true)]
    [InlineData("predictor", "GET /v2/models/seed", true)]
    [InlineData("predictor", "GET /api/data/datasets", false)]
    [InlineData("predictor", "PUT /api/registry/models/seed/aliases/challenger", false)]
    [InlineData("data-writer", "POST /api/data/datasets/x", true)]
    [InlineData("data-writer", "POST /api/features/push", true)]
    [InlineData("data-writer", "POST /api/training/train", false)]
    [InlineData("trainer", "POST /api/training/jobs", true)]
    [InlineData("trainer", "POST /api/2.0/mlflow/runs/create", true)]
    [InlineData("trainer", "PUT /api/registry/models/seed/aliases/challenger", false)]
    [InlineData("trainer", "POST /api/2.0/mlflow/registered-models/create", false)]
    [InlineData("model-admin", "PUT /api/registry/models/seed/aliases/challenger", true)]
    [InlineData("model-admin", "POST /api/2.0/mlflow/model-versions/transition-stage", true)]
    [InlineData("model-admin", "POST /api/events/replay", false)]
    [InlineData("model-admin", "GET /api/security/keys", false)]
    [InlineData("admin", "GET /api/security/keys", true)]
    [InlineData("admin", "GET /api/events", true)]
    [InlineData("admin", "POST /api/events/topics/data.ingested/messages", false)]
    public async Task Role_SampleRoute_IsAllowedOrForbidden(string role, string route, bool allowed)
    {
        using var http = TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress }, TestKeys.Create(fixture.App.Services, role));
        var (method, path) = (route[..route.IndexOf(' ', StringComparison.Ordinal)], route[(route.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            // Bodies the routes refuse as input: an allowed call proves authorization passed without changing anything.
            request.Content = path.StartsWith("/api/data/", StringComparison.Ordinal)
                ? new StringContent("", Encoding.UTF8, "text/csv")
                : new StringContent("{\"not\": \"valid\"", Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        if (allowed)
        {
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{role}: {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    private static string Fill(string template) =>
        "/" + System.Text.RegularExpressions.Regex.Replace(template.Trim('/'), @"\{\*{0,2}([^}:]+)[^}]*\}", "x");

    private sealed class TestEndpointBuilder : Microsoft.AspNetCore.Builder.IEndpointConventionBuilder
    {
        private readonly List<Action<Microsoft.AspNetCore.Builder.EndpointBuilder>> _conventions = [];

        public void Add(Action<Microsoft.AspNetCore.Builder.EndpointBuilder> convention) => _conventions.Add(convention);

        public void Apply(Microsoft.AspNetCore.Builder.EndpointBuilder endpoint) => _conventions.ForEach(c => c(endpoint));
    }
}
