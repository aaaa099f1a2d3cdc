using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;
using Strata.Contracts.Tracking;
using Strata.Dashboard.Components;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;

namespace Strata.Dashboard;

/// <summary>The dashboard's pages and actions. Pages are GETs rendered on the server; actions are form POSTs with an
/// anti-forgery token that redirect back (post, redirect, get). Every page and action goes through the same
/// authorization table as the API (<see cref="DashboardModule.Table"/>); a browser authenticates with the session cookie
/// of its sign-in (<see cref="IBrowserSessions"/>).</summary>
public static class DashboardEndpoints
{
    /// <summary>The monitoring page's windows.</summary>
    public static IReadOnlyDictionary<string, TimeSpan> Windows { get; } = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
    {
        ["1h"] = TimeSpan.FromHours(1),
        ["1d"] = TimeSpan.FromDays(1),
        ["7d"] = TimeSpan.FromDays(7),
    };

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup(string.Empty).WithMetadata(BrowserPage.Instance).WithErrorShape(DashboardErrorShape.Instance)
            .AddEndpointFilter(async (context, next) =>
            {
                DashboardErrorShape.SecurityHeaders(context.HttpContext);
                return await next(context);
            });
        pages.MapGet("/", () => TypedResults.Redirect(DashboardRoutes.Prefix));
        pages.MapGet(DashboardRoutes.Prefix, OverviewAsync);
        pages.MapGet(DashboardRoutes.SignIn, SignInForm);
        pages.MapPost(DashboardRoutes.SignIn, SignInAsync);
        pages.MapGet(DashboardRoutes.SignIn + "/oidc", SignInWithProvider);
        pages.MapPost("/ui/sign-out", SignOutAsync);
        pages.MapGet(DashboardRoutes.Assets + "/{file}", (HttpContext context, string file, DashboardAssets assets) => assets.Serve(context, file));
        pages.MapGet("/ui/models", ModelsAsync);
        pages.MapGet("/ui/models/{model}", ModelAsync);
        pages.MapPost("/ui/models/{model}/aliases/{alias}", SetAliasAsync);
        pages.MapPost("/ui/rollouts/{id}/{action}", ControlRolloutAsync);
        pages.MapGet("/ui/runs", RunsAsync);
        pages.MapGet("/ui/runs/compare", CompareAsync);
        pages.MapGet("/ui/runs/{run}", RunAsync);
        pages.MapGet("/ui/features", FeaturesAsync);
        pages.MapGet("/ui/events", EventsAsync);
        pages.MapPost("/ui/events/dead-letters/{id}/redrive", RedriveAsync);
        pages.MapGet("/ui/monitoring", MonitoringAsync);
        return app;
    }

    private static RazorComponentResult<TPage> Page<TPage>(PageContext context, object view, int status = StatusCodes.Status200OK)
        where TPage : IComponent =>
        new RazorComponentResult<TPage>(new Dictionary<string, object?> { ["Context"] = context, ["View"] = view }) { StatusCode = status };

    private static PageContext Context(HttpContext http, string title, string section)
    {
        var services = http.RequestServices;
        var tokens = services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        var signedIn = http.User.Identity?.IsAuthenticated == true;
        return new PageContext(title, section, signedIn ? http.User.Identity!.Name ?? "signed in" : null,
            signedIn ? StrataClaims.PermissionsOf(http.User) : Permissions.None, tokens.FormFieldName, tokens.RequestToken!,
            services.GetRequiredService<DashboardAssets>());
    }

    /// <summary>The form of a POST, after its anti-forgery token is checked (a 400 page when it is missing or stale).</summary>
    private static async Task<IFormCollection> FormAsync(HttpContext http)
    {
        try
        {
            await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
        }
        catch (AntiforgeryValidationException)
        {
            throw new InputValidationException("form", "the form's anti-forgery token is missing or stale: reload the page and submit again");
        }
        return await http.Request.ReadFormAsync(http.RequestAborted);
    }

    // Sign-in.

    private static RazorComponentResult<SignInPage> SignInForm(HttpContext http, IBrowserSessions sessions, string? next, string? failure) =>
        Page<SignInPage>(Context(http, "Sign in", "sign-in"), new SignInView(SafeNext(next),
            failure == "oidc" ? $"signing in with {sessions.OidcProvider ?? "the identity provider"} failed (the server's log says why)" : null, sessions.OidcProvider));

    /// <summary>To the identity provider, and back to <paramref name="next"/> once signed in.</summary>
    private static ChallengeHttpResult SignInWithProvider(IBrowserSessions sessions, string? next) =>
        sessions.OidcProvider is null
            ? throw new ResourceNotFoundException("identity provider", "none is configured (Strata:Security:Oidc)")
            : TypedResults.Challenge(new Microsoft.AspNetCore.Authentication.AuthenticationProperties { RedirectUri = SafeNext(next) }, [BrowserSignIn.OidcScheme]);

    private static async Task<IResult> SignInAsync(HttpContext http, IBrowserSessions sessions)
    {
        var form = await FormAsync(http);
        var next = SafeNext(form["next"]);
        var failure = await sessions.SignInAsync(http, form["key"].ToString());
        return failure is null
            ? TypedResults.Redirect(next)
            : Page<SignInPage>(Context(http, "Sign in", "sign-in"), new SignInView(next, failure, sessions.OidcProvider), StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IBrowserSessions sessions)
    {
        await FormAsync(http);
        sessions.SignOut(http);
        return TypedResults.Redirect(DashboardRoutes.SignIn);
    }

    /// <summary>Where to go after signing in: a path of the dashboard, never another site.</summary>
    internal static string SafeNext(string? next) =>
        next is { Length: > 0 } && next.StartsWith('/') && !next.StartsWith("//", StringComparison.Ordinal) && !next.Contains('\\', StringComparison.Ordinal)
            && (next == "/" || next.StartsWith(DashboardRoutes.Prefix, StringComparison.Ordinal)) && !next.StartsWith(DashboardRoutes.SignIn, StringComparison.Ordinal)
            ? next
            : DashboardRoutes.Prefix;

    // Overview.

    private static async Task<IResult> OverviewAsync(HttpContext http, HealthCheckService health, MetricsHistory metrics, IRegistryClient registry,
        IServingClient serving, CancellationToken ct)
    {
        var servingStatus = await ServingStatusAsync(serving, ct);
        var report = await health.CheckHealthAsync(ct);
        var checks = report.Entries.Select(e => new HealthRow(e.Key, e.Value.Status.ToString(), e.Value.Description, e.Value.Duration.TotalMilliseconds,
            e.Value.Data.Select(d => (d.Key, Convert.ToString(d.Value, CultureInfo.InvariantCulture) ?? "")).ToList())).ToList();
        var samples = metrics.Samples;
        var (times, rate, errors, p99) = MetricsRates.Red(samples);
        ChartData[] red =
        [
            new("Requests per second", times, [new("requests/s", rate)]),
            new("Errors (5xx, % of requests)", times, [new("5xx %", errors)]),
            new("Latency p99 (ms)", times, [new("p99 ms", p99)]),
        ];
        var (ptimes, perModel) = MetricsRates.PerSecond(samples, s => s.ModelPredictions);
        var predictions = new ChartData("Rows scored per second, by model", ptimes, [.. perModel.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new ChartSeries(p.Key, p.Value))]);
        IReadOnlyList<RegisteredModel> models;
        string? modelsError = null;
        try
        {
            models = await registry.ListModelsAsync(ct);
        }
        catch (DependencyUnavailableException e)
        {
            (models, modelsError) = ([], e.Message);
        }
        return Page<OverviewPage>(Context(http, "Overview", "overview"), new OverviewView(report.Status.ToString(), checks, red, predictions, models, modelsError,
            samples.Count) { Serving = servingStatus });
    }

    // Models.

    private static async Task<IResult> ModelsAsync(HttpContext http, IRegistryClient registry, CancellationToken ct) =>
        Page<ModelsPage>(Context(http, "Models", "models"), new ModelsView([.. (await registry.ListModelsAsync(ct)).OrderBy(m => m.Name, StringComparer.Ordinal)]));

    private static async Task<IResult> ModelAsync(HttpContext http, string model, IRegistryClient registry, IRolloutsClient rollouts,
        IExperimentsClient experiments, IServingClient serving, IOptions<DashboardOptions> options, string? page, CancellationToken ct)
    {
        var number = 1;
        if (page is { Length: > 0 } && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number < 1))
        {
            throw new InputValidationException("page", $"'{page}' is not a page number (1, 2, ...)");
        }
        var models = await registry.ListModelsAsync(ct);
        var found = models.FirstOrDefault(m => m.Name == model) ?? throw new ResourceNotFoundException("model", model);
        var versions = registry.ListVersionsAsync(model, ct);
        var policy = registry.GetTrafficPolicyAsync(model, ct);
        var history = registry.GetTrafficHistoryAsync(model, ct);
        var modelRollouts = rollouts.ListAsync(model, ct);
        var modelExperiments = experiments.ListAsync(model, ct);
        // What serving has in force for the model it serves (asked only for that one: asking serving about another model
        // would make it load that model).
        var status = await ServingStatusAsync(serving, ct);
        TrafficStatus? traffic = null;
        if (status?.Model == model)
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
            budget.CancelAfter(PanelBudget);
            try
            {
                traffic = await serving.GetTrafficAsync(model, budget.Token);
            }
            catch (Exception e) when (e is DependencyUnavailableException or ResourceNotFoundException
                || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
            }
        }
        var all = (await versions).OrderByDescending(v => v.Version).ToList();
        var perPage = options.Value.VersionsPerPage;
        var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
        if (number > pages)
        {
            throw new InputValidationException("page", $"the model has {pages} page(s) of versions");
        }
        return Page<ModelPage>(Context(http, model, "models"), new ModelView(found, [.. all.Skip((number - 1) * perPage).Take(perPage)], all.Count, number, pages, await policy,
            await history, [.. (await modelRollouts).OrderByDescending(r => r.CreatedAt)], [.. (await modelExperiments).OrderByDescending(e => e.StartedAt)],
            http.Request.Query["changed"].ToString() is { Length: > 0 } changed ? changed : null) { Serving = status?.Model == model ? status : null, Traffic = traffic });
    }

    /// <summary>How long a page waits for serving's panel: a page is not held up by a module that is slow (the HTTP client
    /// retries a 5xx for up to 30 s, e.g. while serving swaps versions); it shows the panel as unavailable instead.</summary>
    private static readonly TimeSpan PanelBudget = TimeSpan.FromSeconds(2);

    /// <summary>Serving's status, or null when serving cannot be reached or does not answer within <see cref="PanelBudget"/>.</summary>
    private static async Task<ServingStatus?> ServingStatusAsync(IServingClient serving, CancellationToken ct)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(PanelBudget);
        try
        {
            return await serving.GetStatusAsync(budget.Token);
        }
        catch (Exception e) when (e is DependencyUnavailableException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    private static async Task<IResult> SetAliasAsync(HttpContext http, string model, string alias, IRegistryClient registry, CancellationToken ct)
    {
        var form = await FormAsync(http);
        if (!int.TryParse(form["version"], NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            throw new InputValidationException("version", $"'{form["version"]}' is not a version number");
        }
        await registry.SetAliasAsync(model, alias, version, ct);
        return TypedResults.Redirect($"/ui/models/{Uri.EscapeDataString(model)}?changed={Uri.EscapeDataString($"{alias} → version {version}")}");
    }

    private static async Task<IResult> ControlRolloutAsync(HttpContext http, string id, string action, IRolloutsClient rollouts, CancellationToken ct)
    {
        await FormAsync(http);
        if (!RolloutRoutes.Actions.Contains(action))
        {
            throw new InputValidationException("action", $"'{action}' is not a rollout action: {string.Join(", ", RolloutRoutes.Actions)}");
        }
        var rollout = await rollouts.ControlAsync(id, action, ct);
        return TypedResults.Redirect($"/ui/models/{Uri.EscapeDataString(rollout.Model)}?changed={Uri.EscapeDataString($"rollout {id}: {rollout.Status}")}");
    }

    // Runs.

    private static async Task<IResult> RunsAsync(HttpContext http, ITrackingClient tracking, IOptions<DashboardOptions> options,
        string? experiment, string? filter, string? page, CancellationToken ct)
    {
        var experiments = await tracking.ListExperimentsAsync(ct);
        var ids = experiment is { Length: > 0 } ? [experiment] : experiments.Select(e => e.ExperimentId).ToList();
        var (runs, next) = ids.Count == 0
            ? ([], null)
            : await tracking.SearchRunsAsync(ids, filter, ["attributes.start_time DESC"], options.Value.RunsPerPage, page is { Length: > 0 } ? page : null, ct);
        return Page<RunsPage>(Context(http, "Runs", "runs"), new RunsView(experiments, experiment, filter, runs, next));
    }

    private static async Task<IResult> RunAsync(HttpContext http, string run, ITrackingClient tracking, CancellationToken ct)
    {
        var found = await tracking.GetRunAsync(run, ct);
        var keys = (found.Data.Metrics ?? []).Select(m => m.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(12).ToList();
        var charts = new List<ChartData>();
        foreach (var key in keys)
        {
            var history = await tracking.GetMetricHistoryAsync(run, key, ct);
            if (history.Count > 1)
            {
                charts.Add(StepChart(key, [(found.Info.RunName, history)]));
            }
        }
        return Page<RunPage>(Context(http, found.Info.RunName, "runs"), new RunView(found, charts));
    }

    private static async Task<IResult> CompareAsync(HttpContext http, ITrackingClient tracking, string? ids, string? metric, CancellationToken ct)
    {
        var list = (ids ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (list.Count is < 1 or > 10)
        {
            throw new InputValidationException("ids", "name 1 to 10 runs to compare, separated by commas");
        }
        var runs = await Task.WhenAll(list.Select(id => tracking.GetRunAsync(id, ct)));
        var keys = runs.SelectMany(r => r.Data.Metrics ?? []).Select(m => m.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var chosen = metric is { Length: > 0 } && keys.Contains(metric) ? metric : keys.FirstOrDefault();
        ChartData? chart = null;
        if (chosen is not null)
        {
            var histories = await Task.WhenAll(runs.Select(async r => (r.Info.RunName, (IReadOnlyList<Metric>)await tracking.GetMetricHistoryAsync(r.Info.RunId, chosen, ct))));
            chart = StepChart(chosen, histories);
        }
        return Page<ComparePage>(Context(http, "Compare runs", "runs"), new CompareView(runs, keys, chosen, chart));
    }

    /// <summary>Metric histories by step, one series per run (steps missing from a run are gaps).</summary>
    private static ChartData StepChart(string metric, IReadOnlyList<(string Run, IReadOnlyList<Metric> History)> runs)
    {
        var steps = runs.SelectMany(r => r.History.Select(m => m.Step)).Distinct().Order().ToArray();
        var index = steps.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);
        var series = runs.Select(r =>
        {
            var values = new double?[steps.Length];
            foreach (var point in r.History)
            {
                values[index[point.Step]] = point.Value;
            }
            return new ChartSeries(r.Run, values);
        }).ToList();
        return new ChartData(metric, steps, series) { XLabel = "step" };
    }

    // Features.

    private static async Task<IResult> FeaturesAsync(HttpContext http, IFeaturesClient features, MetricsHistory metrics, CancellationToken ct)
    {
        var views = features.ListViewsAsync(ct);
        var entities = features.ListEntitiesAsync(ct);
        var services = features.ListFeatureServicesAsync(ct);
        var samples = metrics.Samples;
        var lookups = new Dictionary<string, (double Present, double Total)>(StringComparer.Ordinal);
        if (samples.Count > 1)
        {
            foreach (var ((view, status), total) in samples[^1].FeatureLookups)
            {
                var increase = MetricsRates.Increase(samples[0].FeatureLookups.GetValueOrDefault((view, status)), total);
                var (present, all) = lookups.GetValueOrDefault(view);
                lookups[view] = (present + (status == "present" ? increase : 0), all + increase);
            }
        }
        var (times, perView) = MetricsRates.PerSecond(samples, s => s.FeatureLookups.GroupBy(p => p.Key.View).ToDictionary(g => g.Key, g => g.Sum(p => p.Value)));
        var chart = new ChartData("Online lookups per second, by view", times, [.. perView.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new ChartSeries(p.Key, p.Value))]);
        return Page<FeaturesPage>(Context(http, "Features", "features"), new FeaturesView([.. (await views).OrderBy(v => v.Name, StringComparer.Ordinal)], await entities,
            await services, lookups, chart, samples.Count > 1 ? samples[^1].Time - samples[0].Time : TimeSpan.Zero));
    }

    // Events.

    private static async Task<IResult> EventsAsync(HttpContext http, IServiceProvider services, string? topic, CancellationToken ct)
    {
        var events = services.GetService<IEventsAdminClient>()
            ?? throw new DependencyUnavailableException(Strata.Contracts.ModuleNames.Events, "the events module's API is not reachable from this process (no Strata:Services:events)");
        var recent = events.QueryAsync(topic is { Length: > 0 } ? topic : null, null, null, null, null, null, 50, null, newestFirst: true, ct);
        var consumers = events.ConsumersAsync(null, ct);
        var dead = events.DeadLettersAsync(null, null, null, 100, ct);
        return Page<EventsPage>(Context(http, "Events", "events"), new EventsView(topic, (await recent).Events, await consumers, await dead,
            http.Request.Query["changed"].ToString() is { Length: > 0 } changed ? changed : null));
    }

    private static async Task<IResult> RedriveAsync(HttpContext http, string id, IServiceProvider services, CancellationToken ct)
    {
        await FormAsync(http);
        var events = services.GetService<IEventsAdminClient>()
            ?? throw new DependencyUnavailableException(Strata.Contracts.ModuleNames.Events, "the events module's API is not reachable from this process");
        var result = await events.RedriveAsync(id, ct);
        return TypedResults.Redirect($"/ui/events?changed={Uri.EscapeDataString($"dead letter {id} re-driven to {result.Group}")}");
    }

    // Monitoring.

    private static async Task<IResult> MonitoringAsync(HttpContext http, IRegistryClient registry, IMonitoringClient monitoring, TimeProvider time,
        string? model, string? window, CancellationToken ct)
    {
        var models = await registry.ListModelsAsync(ct);
        var span = window is { Length: > 0 } ? Windows.GetValueOrDefault(window) : Windows["1d"];
        if (span == TimeSpan.Zero)
        {
            throw new InputValidationException("window", $"'{window}' is not a window: {string.Join(", ", Windows.Keys)}");
        }
        var name = model is { Length: > 0 } ? model : models.OrderBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault()?.Name;
        if (name is null)
        {
            return Page<MonitoringPage>(Context(http, "Monitoring", "monitoring"), new MonitoringView(models, null, window ?? "1d", null, []));
        }
        if (!models.Any(m => m.Name == name))
        {
            throw new ResourceNotFoundException("model", name);
        }
        var now = time.GetUtcNow();
        var report = monitoring.GetReportAsync(name, now - span, now, null, ct);
        // Over time: the window in six slices, each version's largest PSI and its AUC per slice.
        const int Slices = 6;
        var slices = await Task.WhenAll(Enumerable.Range(0, Slices).Select(async i =>
        {
            var (from, to) = (now - span + (span / Slices * i), now - span + (span / Slices * (i + 1)));
            return (To: to, Drift: await monitoring.GetDriftAsync(name, from, to, null, ct), Performance: await monitoring.GetPerformanceAsync(name, from, to, null, ct));
        }));
        var times = slices.Select(s => s.To.ToUnixTimeSeconds()).ToArray();
        var versions = slices.SelectMany(s => s.Drift.Versions.Select(v => v.Version)).Concat(slices.SelectMany(s => s.Performance.Versions.Select(v => v.Version)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var psi = new ChartData("Largest feature PSI, by version", times, [.. versions.Select(v => new ChartSeries($"v{v}",
            [.. slices.Select(s => s.Drift.Versions.FirstOrDefault(d => d.Version == v)?.Features.Max(f => f.Psi))]))]);
        var auc = new ChartData("AUC on labelled outcomes, by version", times, [.. versions.Select(v => new ChartSeries($"v{v}",
            [.. slices.Select(s => s.Performance.Versions.FirstOrDefault(p => p.Version == v)?.Auc)]))]);
        return Page<MonitoringPage>(Context(http, $"Monitoring: {name}", "monitoring"), new MonitoringView(models, name, window ?? "1d", await report, [psi, auc]));
    }
}
