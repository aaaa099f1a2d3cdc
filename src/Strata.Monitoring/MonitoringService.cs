using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.Contracts.Registry;
using Strata.Monitoring.Storage;

namespace Strata.Monitoring;

/// <summary>The Monitoring module in process (<see cref="IMonitoringClient"/>).</summary>
public sealed class MonitoringService(SqlMonitoringStore store) : IMonitoringClient
{
    /// <summary>The longest window one performance query may cover.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(366);

    public async Task<ModelPerformance> GetPerformanceAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        CancellationToken cancellationToken = default)
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
        var rows = await store.PredictionsAsync(model, from, to, version, cancellationToken);
        var failures = await store.FailuresAsync(model, from, to, version, cancellationToken);
        var versions = rows.Select(r => r.Version).Concat(failures.Keys).Distinct(StringComparer.Ordinal)
            .OrderBy(v => v.Length).ThenBy(v => v, StringComparer.Ordinal)
            .Select(v => OutcomeMetrics.Of(v, [.. rows.Where(r => r.Version == v)], failures.GetValueOrDefault(v)))
            .ToList();
        return new ModelPerformance(model, from, to, versions);
    }
}
