using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts.Security;
using Strata.Security.ApiKeys;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;

namespace Strata.Security;

/// <summary>The Security module's endpoints: API keys (admin only; a key's secret is shown once, when created), who
/// the caller is, the roles and the authorization table, and the key snapshot Strata's other processes poll.</summary>
public static class SecurityApi
{
    public static RouteAuthorization Authorization { get; } = new()
    {
        ["GET " + SecurityRoutes.Keys] = Permissions.ManageKeys,
        ["POST " + SecurityRoutes.Keys] = Permissions.ManageKeys,
        ["GET " + SecurityRoutes.Keys + "/{id}"] = Permissions.ManageKeys,
        ["DELETE " + SecurityRoutes.Keys + "/{id}"] = Permissions.ManageKeys,
        ["GET " + SecurityRoutes.KeySnapshot] = Permissions.Internal,
        ["GET " + SecurityRoutes.WhoAmI] = Permissions.Authenticated,
        ["GET " + SecurityRoutes.Roles] = Permissions.Authenticated,
        ["GET " + SecurityRoutes.Routes] = Permissions.Authenticated,
    };

    public static IEndpointRouteBuilder MapSecurityApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup(SecurityRoutes.Keys).WithTags("Security");
        keys.MapGet("", (ApiKeyStore store) => TypedResults.Ok(store.List()));
        keys.MapPost("", Results<Created<CreatedApiKey>, ProblemHttpResult> (NewApiKey request, ApiKeyStore store, ClaimsPrincipal user) =>
        {
            var created = store.Create(request, user.Identity?.Name ?? "unknown");
            return TypedResults.Created($"{SecurityRoutes.Keys}/{created.Info.Id}", created);
        });
        keys.MapGet("/{id}", Results<Ok<ApiKeyInfo>, ProblemHttpResult> (string id, ApiKeyStore store) =>
            store.Get(id) is { } info ? TypedResults.Ok(info) : Problems.NotFound("api key", id));
        keys.MapDelete("/{id}", (string id, ApiKeyStore store) => TypedResults.Ok(store.Revoke(id)));

        app.MapGet(SecurityRoutes.KeySnapshot, (HttpContext context, ApiKeyStore store) =>
        {
            var version = store.Version;
            var etag = $"\"{version}\"";
            if (context.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            context.Response.Headers.ETag = etag;
            return Results.Ok(store.Snapshot());
        }).WithTags("Security").Produces<KeySnapshot>();

        app.MapGet(SecurityRoutes.WhoAmI, (ClaimsPrincipal user) => TypedResults.Ok(new Principal(user.Identity?.Name ?? "unknown",
            user.FindFirst(StrataClaims.Kind)?.Value ?? "unknown", user.FindFirst(StrataClaims.KeyId)?.Value,
            [.. user.FindAll(ClaimTypes.Role).Select(c => c.Value)], StrataRoles.Names(StrataClaims.PermissionsOf(user))))).WithTags("Security");
        app.MapGet(SecurityRoutes.Roles, () => TypedResults.Ok(StrataRoles.Grantable.Select(r => new RoleGrant(r.Key, StrataRoles.Names(r.Value))).ToList()))
            .WithTags("Security");
        app.MapGet(SecurityRoutes.Routes, (AccessTable table) => TypedResults.Ok(table.Rows.Select(r => new RouteGrant(r.Module, r.Route,
            r.Required.HasFlag(Permissions.Anonymous) ? ["anonymous"] : StrataRoles.Names(r.Required),
            r.Required.HasFlag(Permissions.Anonymous) ? ["anyone"] : [.. StrataRoles.Grantable.Where(g => (g.Value & r.Required) != 0).Select(g => g.Key)])).ToList()))
            .WithTags("Security");
        return app;
    }
}
