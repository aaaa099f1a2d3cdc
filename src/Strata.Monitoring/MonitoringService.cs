using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Monitoring.Drift;
using Strata.Monitoring.Storage;

namespace Strata.Monitoring;

/// <summary>The Monitoring module in process (<see cref="IMonitoringClient"/>).</summary>
public sealed class MonitoringService(SqlMonitoringStore store, IRegistryClient registry, IOptions<MonitoringOptions> options) : IMonitoringClient
{
    /// <summary>Baselines by model and version, once read (a version's baseline never changes); null: none.</summary>
    private readonly ConcurrentDictionary<(string Model, string Version), ModelBaseline?> _baselines = new();

    /// <summary>The longest window one performance query may cover.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(366);

    public async Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default)
    {
        Validate(model, from, to, version);
        var rows = await store.PredictionsAsync(model, from, to, version, cancellationToken);
        var failures = await store.FailuresAsync(model, from, to, version, cancellationToken);
        var versions = rows.Select(r => r.Version).Concat(failures.Keys).Distinct(StringComparer.Ordinal)
            .OrderBy(v => v.Length).ThenBy(v => v, StringComparer.Ordinal)
            .Select(v => OutcomeMetrics.Of(v, [.. rows.Where(r => r.Version == v)], failures.GetValueOrDefault(v), options.Value.ThresholdOf(model)))
            .ToList();
        return new ModelPerformance(model, from, to, versions);
    }

    public async Task<ModelDrift> GetDriftAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default)
    {
        Validate(model, from, to, version);
        var versions = version is null ? await store.VersionsAsync(model, from, to, cancellationToken) : [version];
        var drift = new List<VersionDrift>();
        foreach (var v in versions.OrderBy(v => v.Length).ThenBy(v => v, StringComparer.Ordinal))
        {
            drift.Add(await DriftOfAsync(model, v, from, to, cancellationToken));
        }
        return new ModelDrift(model, from, to, drift);
    }

    public async Task<ModelReport> GetReportAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default)
    {
        var drift = await GetDriftAsync(model, from, to, version, cancellationToken);
        var performance = await GetPerformanceAsync(model, from, to, version, cancellationToken);
        return new ModelReport(model, from, to, drift.Versions, performance.Versions);
    }

    /// <summary>One version's drift over [from, to): the most recent <see cref="MonitoringOptions.DriftMaxRows"/> logged
    /// predictions against its baseline.</summary>
    internal async Task<VersionDrift> DriftOfAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var rows = await store.ServedAsync(model, version, from, to, settings.DriftMaxRows, cancellationToken);
        var baseline = await BaselineAsync(model, version, cancellationToken);
        return DriftAnalysis.Analyze(version, rows, baseline, settings.Thresholds);
    }

    /// <summary>A version's training baseline (its <see cref="ModelBaseline.Param"/> artifact), or null when it has none.</summary>
    internal async Task<ModelBaseline?> BaselineAsync(string model, string version, CancellationToken cancellationToken)
    {
        if (_baselines.TryGetValue((model, version), out var known))
        {
            return known;
        }
        ModelBaseline? baseline = null;
        if (int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && await registry.GetVersionAsync(model, number, cancellationToken) is { } registered
            && registered.Params.TryGetValue(ModelBaseline.Param, out var sha))
        {
            var bytes = await registry.GetArtifactAsync(sha, cancellationToken);
            baseline = System.Text.Json.JsonSerializer.Deserialize<ModelBaseline>(bytes, StrataJson.Options);
        }
        // A version without one never gains one: remembered either way.
        _baselines[(model, version)] = baseline;
        return baseline;
    }

    private static void Validate(string model, DateTimeOffset from, DateTimeOffset to, string? version)
    {
        AliasName.ValidateModelName(model);
        if (to <= from)
        {
            throw new InputValidationException("to", "must be after from");
        }
        if (to - from > MaxWindow)
        {
            throw new InputValidationException("from", $"the window is at most {MaxWindow.TotalDays} days");
        }
        if (version is not null && (version.Length is 0 or > 32 || !version.All(char.IsAsciiDigit)))
        {
            throw new InputValidationException("version", "must be a version number");
        }
    }
}
