using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>Operating Strata, in each topology, on one deployment (one start per topology keeps the suite's time): traces
/// to an OTLP receiver with JSON logs (<see cref="TracingScenarioTests"/>), metrics scraped by a real Prometheus
/// (<see cref="ObservabilityScenarioTests"/>), then the dashboard in a real browser (<see cref="DashboardScenarioTests"/>).</summary>
public sealed class OperationsScenarioTests
{
    [Theory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_TracesLogsMetricsAndDashboard_AsAnOperatorReadsThem(string topology)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var folder = new TempFolder();
        // The dashboard's identity provider redirects back to Strata's front door: its port is chosen first.
        var port = StrataUp.FreePort();
        await using var provider = await OidcProvider.StartAsync($"http://127.0.0.1:{port}/ui/sign-in/oidc/callback");
        await using var up = await StrataUp.StartAsync(topology, folder.Path, port, environment: new Dictionary<string, string>(provider.StrataEnvironment)
        {
            ["Strata__Otel__Endpoint"] = receiver.Endpoint.ToString(),
            ["Strata__Otel__Protocol"] = "http/protobuf",
            // Every request traced, so every histogram bucket's exemplar names a trace (the default records 1%).
            ["Strata__Otel__SampleRatio"] = "1",
            ["Strata__Logging__Format"] = "json",
            // The dashboard's charts sample the front door's metrics every second (10 s by default).
            ["Strata__Dashboard__SampleInterval"] = "00:00:01",
        });
        await TracingScenarioTests.TraceAsync(up, receiver, folder.Path, topology);
        await ObservabilityScenarioTests.ScrapeAsync(up, topology);
        await DashboardScenarioTests.BrowseAsync(up, topology);
        await DashboardScenarioTests.SignInWithProviderAsync(up, topology);
    }
}
