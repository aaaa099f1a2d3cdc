using System.Text.Json;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Contracts.Serving;
using Strata.Contracts.Tracking;
using Strata.ServiceDefaults.Security;

namespace Strata.Dashboard;

/// <summary>What every page knows: its title and section, who is signed in with which permissions (actions a user may
/// not perform are not offered; the table refuses them anyway), and the anti-forgery field its forms carry.</summary>
public sealed record PageContext(string Title, string Section, string? User, Permissions Permissions, string FormField, string FormToken, DashboardAssets Assets)
{
    public bool Can(Permissions permission) => (Permissions & permission) != 0;
}

/// <summary>A chart: x values (unix seconds, or steps when <see cref="XLabel"/> says so) and named series with gaps.</summary>
public sealed record ChartData(string Title, long[] X, IReadOnlyList<ChartSeries> Series)
{
    public string XLabel { get; init; } = "time";

    public bool HasPoints => X.Length > 1 && Series.Count > 0;

    /// <summary>The chart as the dashboard script reads it from the page.</summary>
    public string Json() => JsonSerializer.Serialize(new
    {
        title = Title,
        xLabel = XLabel,
        x = X,
        series = Series.Select(s => new { label = s.Label, values = s.Values.Select(v => v is { } d && double.IsFinite(d) ? Math.Round(d, 6) : (double?)null) }),
    });
}

public sealed record ChartSeries(string Label, double?[] Values);

public sealed record SignInView(string Next, string? Failure, string? OidcProvider);

public sealed record HealthRow(string Name, string Status, string? Description, double Milliseconds, IReadOnlyList<(string Key, string Value)> Data);

public sealed record OverviewView(string Status, IReadOnlyList<HealthRow> Checks, IReadOnlyList<ChartData> Red, ChartData Predictions, IReadOnlyList<RegisteredModel> Models,
    string? ModelsError, int Samples)
{
    /// <summary>Serving's default model and what it loaded; null when serving cannot be reached.</summary>
    public ServingStatus? Serving { get; init; }
}

public sealed record ModelsView(IReadOnlyList<RegisteredModel> Models);

public sealed record ModelView(RegisteredModel Model, IReadOnlyList<ModelVersion> Versions, int TotalVersions, int Page, int Pages, TrafficPolicyVersion? Policy, IReadOnlyList<TrafficPolicyVersion> PolicyHistory,
    IReadOnlyList<Rollout> Rollouts, IReadOnlyList<Strata.Contracts.Registry.Experiment> Experiments, string? Changed)
{
    /// <summary>When serving serves this model: what it loaded, and the traffic in force (arms' requests, the shadow).</summary>
    public ServingStatus? Serving { get; init; }

    public TrafficStatus? Traffic { get; init; }
}

public sealed record RunsView(IReadOnlyList<Strata.Contracts.Tracking.Experiment> Experiments, string? Experiment, string? Filter, IReadOnlyList<Run> Runs, string? Next);

public sealed record RunView(Run Run, IReadOnlyList<ChartData> Charts);

public sealed record CompareView(IReadOnlyList<Run> Runs, IReadOnlyList<string> MetricKeys, string? Metric, ChartData? Chart);

public sealed record FeaturesView(IReadOnlyList<FeatureViewInfo> Views, IReadOnlyList<EntityInfo> Entities, IReadOnlyList<FeatureServiceInfo> Services,
    IReadOnlyDictionary<string, (double Present, double Total)> Lookups, ChartData Chart, TimeSpan Window);

public sealed record EventsView(string? Topic, IReadOnlyList<EventRecord> Recent, IReadOnlyList<ConsumerGroupInfo> Consumers, IReadOnlyList<DeadLetterRecord> DeadLetters,
    string? Changed);

public sealed record MonitoringView(IReadOnlyList<RegisteredModel> Models, string? Model, string Window, ModelReport? Report, IReadOnlyList<ChartData> Charts);

public sealed record ErrorView(int Status, string Title, string Detail, string? Field);
