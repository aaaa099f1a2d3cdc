using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.ServiceDefaults.Modules;
using Strata.ServiceDefaults.Security;

namespace Strata.Dashboard;

/// <summary><c>Strata:Dashboard</c>.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Strata:Dashboard";

    /// <summary>How often the charts' metrics are sampled from the front door's exposition.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many samples the charts keep (360 at 10 s: the last hour).</summary>
    [Range(2, 100_000)]
    public int Samples { get; set; } = 360;

    /// <summary>Versions per page of a model's page (newest first).</summary>
    [Range(1, 10_000)]
    public int VersionsPerPage { get; set; } = 100;

    /// <summary>Runs per page of the runs list.</summary>
    [Range(1, 1000)]
    public int RunsPerPage { get; set; } = 100;
}

public static class DashboardRoutes
{
    public const string Prefix = "/ui";
    public const string Assets = "/ui/assets";
    public const string SignIn = "/ui/sign-in";
}

/// <summary>The web dashboard: overview (health, RED charts), models (versions, lineage, aliases, traffic, rollouts;
/// promote and roll back), runs (search, compare, metric history), features (views, online hit rates), events
/// (recent events, consumer lag, dead letters with redrive) and monitoring (drift and performance per version).
/// Server-rendered Razor components, built only on the modules' client interfaces (in process in the monolith, over
/// HTTP from the gateway's process in the microservices topology): one front door, the same pages in both.</summary>
public static class DashboardModule
{
    /// <summary>The dashboard's rows of the authorization table. The sign-in page and the vendored scripts and styles are
    /// open (a browser needs them before it has a session); every page needs what the API route it shows needs; an action
    /// needs what the API route it performs needs (and is audited like it).</summary>
    public static RouteAuthorization Table { get; } = new()
    {
        ["GET /"] = Permissions.Authenticated,
        ["GET /ui"] = Permissions.Read,
        ["GET /ui/sign-in"] = Permissions.Anonymous,
        ["POST /ui/sign-in"] = Permissions.Anonymous,
        ["GET /ui/sign-in/oidc"] = Permissions.Anonymous,
        ["POST /ui/sign-out"] = Permissions.Authenticated,
        ["GET /ui/assets/{file}"] = Permissions.Anonymous,
        ["GET /ui/models"] = Permissions.Read,
        ["GET /ui/models/{model}"] = Permissions.Read,
        ["POST /ui/models/{model}/aliases/{alias}"] = Permissions.ManageModels,
        ["POST /ui/rollouts/{id}/{action}"] = Permissions.ManageModels,
        ["GET /ui/runs"] = Permissions.Read,
        ["GET /ui/runs/compare"] = Permissions.Read,
        ["GET /ui/runs/{run}"] = Permissions.Read,
        ["GET /ui/features"] = Permissions.Read,
        ["GET /ui/events"] = Permissions.ReadAudit,
        ["POST /ui/events/dead-letters/{id}/redrive"] = Permissions.Operate,
        ["GET /ui/monitoring"] = Permissions.Read,
    };

    public static ModuleDescriptor Descriptor { get; } = new()
    {
        Name = ModuleNames.Dashboard,
        Calls = [ModuleNames.Events, ModuleNames.Features, ModuleNames.Monitoring, ModuleNames.Registry, ModuleNames.Serving],
        UrlPrefixes = [DashboardRoutes.Prefix],
        Authorization = Table,
        AddServices = c => c.Services.AddDashboard(),
        MapEndpoints = app => app.MapDashboard(),
        AddHttpClient = (_, _) => throw new InvalidOperationException("the dashboard is served by the front door; no module calls it"),
    };

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRazorComponents();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "strata_antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = "__strata_form";
            o.HeaderName = null;
        });
        services.AddSingleton<MetricsHistory>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsHistory>());
        services.AddSingleton(sp => new DashboardAssets());
        return services;
    }
}
