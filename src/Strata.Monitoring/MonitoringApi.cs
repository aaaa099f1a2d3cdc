using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Monitoring;
using Strata.ServiceDefaults;

namespace Strata.Monitoring;

/// <summary>The Monitoring module's HTTP API under <c>/api/monitoring</c>.</summary>
public static class MonitoringApi
{
    /// <summary>The window a performance query covers when <c>from</c> is not given.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    public static IEndpointRouteBuilder MapMonitoringApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(MonitoringRoutes.Prefix).InModule(ModuleNames.Monitoring).WithTags("Monitoring");
        api.MapGet(MonitoringRoutes.Performance, async (string model, string? from, string? to, string? version, IMonitoringClient monitoring, TimeProvider time,
                CancellationToken ct) =>
            {
                var end = to is null ? time.GetUtcNow() : Parse(to, "to");
                var start = from is null ? end - DefaultWindow : Parse(from, "from");
                return TypedResults.Ok(await monitoring.GetPerformanceAsync(model, start, end, version, ct));
            })
            .WithSummary("Each version's predictions, failures, latency and, where outcomes came back, quality (AUC, log-loss, precision...) over [from, to) (default: the last day)");
        api.MapGet(MonitoringRoutes.Drift, async (string model, string? from, string? to, string? version, IMonitoringClient monitoring, TimeProvider time,
                CancellationToken ct) =>
            {
                var (start, end) = Window(from, to, time);
                return TypedResults.Ok(await monitoring.GetDriftAsync(model, start, end, version, ct));
            })
            .WithSummary("Each version's drift against its training baseline (PSI, Kolmogorov-Smirnov or chi-square and Jensen-Shannon per feature, the score's) and data quality over [from, to) (default: the last day)");
        api.MapGet(MonitoringRoutes.Report, async (string model, string? from, string? to, string? version, IMonitoringClient monitoring, TimeProvider time,
                CancellationToken ct) =>
            {
                var (start, end) = Window(from, to, time);
                return TypedResults.Ok(await monitoring.GetReportAsync(model, start, end, version, ct));
            })
            .WithSummary("Drift, data quality and performance of each version over [from, to) (default: the last day)");
        return app;
    }

    private static (DateTimeOffset From, DateTimeOffset To) Window(string? from, string? to, TimeProvider time)
    {
        var end = to is null ? time.GetUtcNow() : Parse(to, "to");
        return (from is null ? end - DefaultWindow : Parse(from, "from"), end);
    }

    private static DateTimeOffset Parse(string text, string field) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw new InputValidationException(field, $"'{text}' is not a time (ISO 8601, e.g. 2026-12-07T10:00:00Z)");
}
