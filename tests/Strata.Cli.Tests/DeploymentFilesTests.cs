using System.Text.Json;
using System.Text.RegularExpressions;
using Strata.Hosting;
using Strata.Security;
using Strata.Testing;
using YamlDotNet.RepresentationModel;

namespace Strata.Cli.Tests;

/// <summary>deploy/ checked with what runs here: the compose file and the Kubernetes manifests against their schemas
/// (validators from npm), the Prometheus config and alert rules by promtool, every metric a rule or dashboard panel
/// queries is one Strata exports, and each module's NetworkPolicy admits exactly its callers in the service-to-service
/// table.</summary>
public sealed partial class DeploymentFilesTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    private static string Deploy => Path.Combine(StrataExecutable.RepositoryRoot, "deploy");

    [SkippableFact]
    public async Task ComposeAndManifests_MatchTheirSchemas_AndABrokenCopyDoesNot()
    {
        var validator = await NodeScript.PrepareAsync("deploy/validate");
        Skip.If(validator is null, NodeScript.InstallHint);
        var (exit, output) = await validator.RunAsync("validate.mjs", new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
        Assert.True(exit == 0, output);
        Assert.Contains("compose.yaml: valid", output, StringComparison.Ordinal);
        Assert.Matches(@"strata\.yaml: \d+ documents", output);

        // The validator can fail: a misspelt key in compose and a string where Kubernetes wants a number.
        using var broken = new TempFolder();
        Directory.CreateDirectory(Path.Combine(broken.Path, "kubernetes"));
        File.WriteAllText(Path.Combine(broken.Path, "compose.yaml"),
            File.ReadAllText(Path.Combine(Deploy, "compose.yaml")).Replace("    command: [certs,", "    comand: [certs,", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(broken.Path, "kubernetes", "strata.yaml"),
            File.ReadAllText(Path.Combine(Deploy, "kubernetes", "strata.yaml")).Replace("  replicas: 2\n", "  replicas: two\n", StringComparison.Ordinal));
        (exit, output) = await validator.RunAsync("validate.mjs", new Dictionary<string, string>(), TimeSpan.FromMinutes(1), broken.Path);
        Assert.Equal(1, exit);
        Assert.Contains("\"additionalProperty\":\"comand\"", output, StringComparison.Ordinal);
        Assert.Contains("spec/replicas must be integer", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task PrometheusConfigAndAlertRules_PassPromtool()
    {
        var promtool = PrometheusServer.Promtool();
        Skip.If(promtool is null, PrometheusServer.InstallHint);
        var (exit, output) = await RunAsync(promtool, "check", "rules", Path.Combine(Deploy, "prometheus", "alerts.yml"));
        Assert.True(exit == 0, output);
        // The config as deployed, with its key file where this machine has one.
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "strata-key"), "sk_test");
        File.Copy(Path.Combine(Deploy, "prometheus", "alerts.yml"), Path.Combine(folder.Path, "alerts.yml"));
        File.WriteAllText(Path.Combine(folder.Path, "prometheus.yml"), File.ReadAllText(Path.Combine(Deploy, "prometheus", "prometheus.yml"))
            .Replace("/etc/prometheus/strata-key", Path.Combine(folder.Path, "strata-key"), StringComparison.Ordinal));
        (exit, output) = await RunAsync(promtool, "check", "config", Path.Combine(folder.Path, "prometheus.yml"));
        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryMetricTheRulesAndDashboardQuery_IsOneStrataExports()
    {
        var exported = DeclaredStrataMetrics();
        // The platform's (ASP.NET Core, runtime): what a real scrape of a monolith shows after a request.
        using (var response = await fixture.Http.GetAsync(new Uri("/api/registry/models", UriKind.Relative)))
        {
            response.EnsureSuccessStatusCode();
        }
        var scrape = await fixture.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        foreach (Match sample in SampleName().Matches(scrape))
        {
            exported.Add(sample.Groups[1].Value);
        }
        exported.Add("strata_process_up"); // the gateway's federation (ObservabilityScenarioTests scrapes it)

        var queries = new List<(string Where, string Expression)>();
        var rules = new YamlStream();
        rules.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "prometheus", "alerts.yml"))));
        foreach (var group in (YamlSequenceNode)((YamlMappingNode)rules.Documents[0].RootNode)["groups"])
        {
            foreach (YamlMappingNode rule in (YamlSequenceNode)((YamlMappingNode)group)["rules"])
            {
                queries.Add(($"alert {rule["alert"]}", ((YamlScalarNode)rule["expr"]).Value!));
            }
        }
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "dashboards", "strata.json")));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add(($"panel '{panel.GetProperty("title").GetString()}'", target.GetProperty("expr").GetString()!));
            }
        }
        Assert.True(queries.Count >= 20, $"{queries.Count} queries");
        var missing = new List<string>();
        foreach (var (where, expression) in queries)
        {
            // Label matchers and grouping labels are not metrics: left out before the names are read.
            var metrics = GroupingLabels().Replace(LabelMatchers().Replace(expression, ""), "");
            foreach (Match name in MetricInQuery().Matches(metrics))
            {
                var metric = name.Value;
                var family = Regex.Replace(metric, "_(bucket|count|sum)$", "");
                if (!exported.Contains(metric) && !exported.Contains(family))
                {
                    missing.Add($"{where}: {metric}");
                }
            }
        }
        Assert.True(missing.Count == 0, $"queried but not exported:\n{string.Join('\n', missing)}");
    }

    [Fact]
    public void NetworkPolicies_AdmitExactlyTheServiceToServiceTable()
    {
        var manifests = new YamlStream();
        manifests.Load(new StringReader(File.ReadAllText(Path.Combine(Deploy, "kubernetes", "strata.yaml"))));
        var policies = manifests.Documents.Select(d => (YamlMappingNode)d.RootNode)
            .Where(d => ((YamlScalarNode)d["kind"]).Value == "NetworkPolicy")
            .ToDictionary(d => ((YamlScalarNode)((YamlMappingNode)d["metadata"])["name"]).Value!, d => d);
        var table = new ServiceCallTable(StrataModules.All);
        foreach (var module in StrataModules.All.Select(m => m.Name))
        {
            Assert.True(policies.TryGetValue($"{module}-callers", out var policy), $"no NetworkPolicy {module}-callers");
            var spec = (YamlMappingNode)policy["spec"];
            var selected = ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)spec["podSelector"])["matchLabels"])["app.kubernetes.io/component"]).Value;
            Assert.Equal(module, selected);
            var admitted = ((YamlSequenceNode)spec["ingress"]).Cast<YamlMappingNode>()
                .SelectMany(rule => (YamlSequenceNode)rule["from"])
                .Select(from => ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)from)["podSelector"])["matchLabels"])["app.kubernetes.io/component"]).Value!)
                .ToHashSet(StringComparer.Ordinal);
            // A route of the module may admit fewer callers than the module as a whole, never more.
            var callers = table.CallersOf(module, "any").Where(c => c != module).ToHashSet(StringComparer.Ordinal);
            Assert.True(callers.SetEquals(admitted), $"{module}: the table's callers {string.Join(", ", callers.Order())}, the policy admits {string.Join(", ", admitted.Order())}");
        }
        Assert.Contains("default-deny-ingress", policies.Keys);
        // Serving runs as three replicas, and the gateway is told all of them.
        var config = manifests.Documents.Select(d => (YamlMappingNode)d.RootNode).Single(d => ((YamlScalarNode)d["kind"]).Value == "ConfigMap");
        var serving = ((YamlScalarNode)((YamlMappingNode)config["data"])["Strata__Services__serving"]).Value!;
        Assert.Equal(3, serving.Split(' ').Length);
    }

    /// <summary>The Prometheus names of the instruments Strata's code declares (a counter gains <c>_total</c>, a histogram
    /// in seconds <c>_seconds</c>), read from the sources: one declared but never yet recorded is still one Strata exports.</summary>
    private static HashSet<string> DeclaredStrataMetrics()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(StrataExecutable.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match m in Instrument().Matches(File.ReadAllText(file)))
            {
                var (kind, name, unit) = (m.Groups[1].Value, m.Groups[2].Value.Replace('.', '_'), m.Groups[3].Success ? m.Groups[3].Value : null);
                var suffix = unit == "s" ? "_seconds" : "";
                names.Add(kind.Contains("Counter", StringComparison.Ordinal) && !kind.Contains("UpDown", StringComparison.Ordinal) ? name + suffix + "_total" : name + suffix);
            }
        }
        Assert.Contains("strata_serving_predictions_total", names);
        Assert.Contains("strata_serving_prediction_duration_seconds", names);
        return names;
    }

    private static Task<(int Exit, string Output)> RunAsync(string file, params string[] arguments) =>
        ChildProcess.RunAsync(file, arguments, TimeSpan.FromMinutes(1));

    [GeneratedRegex("""Create(Counter|Histogram|UpDownCounter|ObservableGauge|ObservableCounter|ObservableUpDownCounter)(?:<\w+>)?\(\s*"(strata\.[a-z0-9_.]+)"(?:\s*,\s*(?:unit:\s*)?"([^"]*)")?""")]
    private static partial Regex Instrument();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex SampleName();

    /// <summary>Metric names in PromQL (with label matchers and grouping removed): Strata's and the platform's.</summary>
    [GeneratedRegex(@"\b(?:strata|http|kestrel|dotnet|aspnetcore)_[a-z0-9_]+\b")]
    private static partial Regex MetricInQuery();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\b(?:by|without)\s*\([^)]*\)")]
    private static partial Regex GroupingLabels();
}
