namespace Strata.Gateway.Tests;

/// <summary>The federated exposition: one family per name across processes, each sample labelled with its process,
/// exemplars kept, one EOF.</summary>
public sealed class ExpositionMergerTests
{
    private const string Gateway = """
        # TYPE http_server_request_duration_seconds histogram
        # UNIT http_server_request_duration_seconds seconds
        # HELP http_server_request_duration_seconds Duration of HTTP server requests.
        http_server_request_duration_seconds_bucket{http_route="/x",le="0.001"} 1 # {trace_id="aa",span_id="bb"} 0.0009 1.5
        http_server_request_duration_seconds_bucket{http_route="/x",le="+Inf"} 1
        http_server_request_duration_seconds_sum{http_route="/x"} 0.0009
        http_server_request_duration_seconds_count{http_route="/x"} 1
        # TYPE strata_gateway_retries counter
        # HELP strata_gateway_retries Requests retried
        strata_gateway_retries_total 3
        # EOF

        """;

    private const string Serving = """
        # TYPE http_server_request_duration_seconds histogram
        # UNIT http_server_request_duration_seconds seconds
        # HELP http_server_request_duration_seconds Duration of HTTP server requests.
        http_server_request_duration_seconds_bucket{http_route="/predict",le="0.001"} 7
        http_server_request_duration_seconds_bucket{http_route="/predict",le="+Inf"} 7
        http_server_request_duration_seconds_sum{http_route="/predict"} 0.002
        http_server_request_duration_seconds_count{http_route="/predict"} 7
        # EOF

        """;

    [Fact]
    public void Merge_OneFamilyPerName_EveryProcessLabelled_ExemplarsKept()
    {
        var merger = new ExpositionMerger(openMetrics: true);
        merger.Add("gateway", Gateway);
        merger.Add("serving.2", Serving);
        merger.AddGauge("strata_process_up", "up", [("gateway", 1), ("serving.2", 0)]);
        var lines = merger.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Single(lines, l => l == "# TYPE http_server_request_duration_seconds histogram");
        Assert.Single(lines, l => l.StartsWith("# UNIT http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains("""http_server_request_duration_seconds_bucket{strata_process="gateway",http_route="/x",le="0.001"} 1 # {trace_id="aa",span_id="bb"} 0.0009 1.5""", lines);
        Assert.Contains("""http_server_request_duration_seconds_count{strata_process="serving.2",http_route="/predict"} 7""", lines);
        Assert.Contains("""strata_gateway_retries_total{strata_process="gateway"} 3""", lines);
        Assert.Contains("""strata_process_up{strata_process="serving.2"} 0""", lines);
        // The histogram's samples from both processes follow its one metadata block, before the next family.
        var first = Array.IndexOf(lines, "# TYPE http_server_request_duration_seconds histogram");
        var next = Array.FindIndex(lines, l => l.StartsWith("# TYPE strata_gateway_retries", StringComparison.Ordinal));
        Assert.True(lines[(first + 1)..next].Count(l => l.Contains("strata_process=\"serving.2\"", StringComparison.Ordinal)) == 4);
        Assert.Single(lines, l => l == "# EOF");
        Assert.Equal("# EOF", lines[^1]);
    }

    [Fact]
    public void Merge_TextFormat_HasNoEof_AndLabelsBareSamples()
    {
        var merger = new ExpositionMerger(openMetrics: false);
        merger.Add("data", "# HELP up_seconds x\n# TYPE up_seconds gauge\nup_seconds 12\n");
        var text = merger.ToString();
        Assert.Contains("up_seconds{strata_process=\"data\"} 12\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("# EOF", text, StringComparison.Ordinal);
    }
}
