using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>A seeded monolith of its own: these tests apply definitions.</summary>
public sealed class DefinitionsFixture : ServingFixture
{
    protected override IDictionary<string, string?> Serving => new Dictionary<string, string?>();
}

/// <summary><c>plan</c>, <c>apply</c> and the export over HTTP: the shipped definitions export and apply back as a
/// no-op; a change to the view the seed model reads is refused (409 naming the model version) unless forced, and the
/// model's view stays readable at its version; a user's own file over an existing dataset gives online features.</summary>
public sealed class FeatureDefinitionsApiTests(DefinitionsFixture fixture) : IClassFixture<DefinitionsFixture>
{
    private HttpClient Http => fixture.Http;

    private const string Patients = """
        entities:
          - name: patient
            join_keys: [{name: patient_id, type: int64}]
        sources:
          - name: scans
            entity: patient
            dataset: scans
            timestamp_column: scanned_at
            columns:
              - {name: radius, type: float64}
              - {name: texture, type: float64}
        feature_views:
          - name: scan
            source: scans
          - name: scan_ratios
            kind: on_demand
            sources: [scan]
            inputs: [{name: radius, exclusive_minimum: 0}, {name: texture}]
            features:
              - {name: texture_per_radius, expression: "texture / radius"}
              - {name: large, expression: "radius > 15 ? 1 : 0"}
        feature_services:
          - name: diagnosis
            features: [scan, scan_ratios]
        """;

    private async Task<JsonObject> ExportAsync() => JsonNode.Parse(await Http.GetStringAsync("/api/features/definitions"))!.AsObject();

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task Definitions_ExportApplyBack_BreakingChangesGuarded_AndAUsersOwnFileServes()
    {
        // The export applies back as a no-op.
        var export = await ExportAsync();
        var (status, noop) = await PostAsync("/api/features/apply", new { definitions = export });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(noop.GetProperty("applied").GetBoolean());
        Assert.Empty(noop.GetProperty("changes").EnumerateArray());
        var version = noop.GetProperty("version").GetInt64();

        // Changing the formula of the view the seed model reads: planned as breaking, refused without force.
        var seedBefore = await Http.GetFromJsonAsync<JsonElement>("/api/features/views/seed_features");
        var changed = export.DeepClone().AsObject();
        var seedView = changed["feature_views"]!.AsArray().Single(v => (string?)v!["name"] == "seed_features")!;
        seedView["features"]!.AsArray().Single(f => (string?)f!["name"] == "age_squared")!["expression"] = "age ** 2 + 1";
        var (planStatus, plan) = await PostAsync("/api/features/plan", new { definitions = changed });
        Assert.Equal(HttpStatusCode.OK, planStatus);
        var change = plan.GetProperty("changes").EnumerateArray().Single();
        Assert.Equal("seed_features", change.GetProperty("name").GetString());
        Assert.True(change.GetProperty("breaking").GetBoolean());
        Assert.Contains("seed/1", change.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var (refusedStatus, refused) = await PostAsync("/api/features/apply", new { definitions = changed });
        Assert.Equal(HttpStatusCode.Conflict, refusedStatus);
        Assert.Contains("seed/1", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(version, (await Http.GetFromJsonAsync<JsonElement[]>("/api/features/definitions/versions"))![0].GetProperty("version").GetInt64());

        var (forcedStatus, forced) = await PostAsync("/api/features/apply", new { definitions = changed, force = true, description = "new age_squared" });
        Assert.Equal(HttpStatusCode.OK, forcedStatus);
        Assert.Equal(version + 1, forced.GetProperty("version").GetInt64());
        var seedAfter = await Http.GetFromJsonAsync<JsonElement>("/api/features/views/seed_features");
        Assert.NotEqual(seedBefore.GetProperty("version").GetString(), seedAfter.GetProperty("version").GetString());
        // The model keeps the view it was trained with: readable at its version, and /predict still answers.
        var old = await Http.GetFromJsonAsync<JsonElement>($"/api/features/views/seed_features?version={seedBefore.GetProperty("version").GetString()}");
        Assert.Equal(seedBefore.GetProperty("features").GetRawText(), old.GetProperty("features").GetRawText());
        using (var predict = await Http.PostAsJsonAsync("/predict", new { age = 35, income = 50000 }))
        {
            Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        }

        // A user's own file, over a dataset that already exists, sent as YAML (the dataset's extra column is ignored).
        using (var csv = await Http.PostAsync("/api/data/datasets/scans",
            new StringContent("patient_id,scanned_at,radius,texture,diagnosis\n1,2026-01-05T10:00:00Z,17.99,10.38,1\n2,2026-01-06T10:00:00Z,11.42,20.38,0\n", Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.Created, csv.StatusCode);
        }
        // One YAML stream of two documents: what is applied (JSON is YAML), then the user's file.
        var withPatients = changed.ToJsonString() + "\n---\n" + Patients;
        using (var yaml = new StringContent(withPatients, Encoding.UTF8, "application/yaml"))
        using (var applied = await Http.PostAsync("/api/features/apply?description=patients", yaml))
        {
            Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        }
        var online = await Eventually.ValueAsync(async () =>
        {
            using var response = await Http.PostAsJsonAsync("/api/features/get-online-features",
                new { entities = new { patient_id = new[] { 1, 2, 3 } }, feature_service = "diagnosis" });
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, r => r.TryGetProperty("results", out var results) && results.GetArrayLength() > 1 && results[1].GetProperty("statuses")[0].GetString() == "PRESENT",
            TimeSpan.FromSeconds(30), "the scans dataset read into the scan view");
        var names = online.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Equal(["patient_id", "radius", "texture", "texture_per_radius", "large"], names);
        double Value(string feature, int row) => online.GetProperty("results")[names.IndexOf(feature)].GetProperty("values")[row].GetDouble();
        Assert.Equal(17.99, Value("radius", 0));
        Assert.Equal(10.38 / 17.99, Value("texture_per_radius", 0), 12);
        Assert.Equal(1, Value("large", 0));
        Assert.Equal(0, Value("large", 1));
        Assert.Equal("NOT_FOUND", online.GetProperty("results")[1].GetProperty("statuses")[2].GetString());
    }

    /// <summary>A model trained on a feature service keeps reading its features as the definitions it was trained with
    /// declared them: after a forced change of an on-demand formula in the service, its predictions by id are unchanged,
    /// while the store serves the new formula to everyone else.</summary>
    [Fact]
    public async Task ServiceModel_AfterAForcedFormulaChange_StillComputesItsFeaturesAsTrained()
    {
        const string Accounts = """
            entities:
              - {name: account, join_keys: [{name: account_id, type: int64}]}
            sources:
              - {name: account_rows, entity: account, dataset: accounts, columns: [{name: balance, type: float64}, {name: age_days, type: float64}]}
            feature_views:
              - {name: account, source: account_rows}
              - name: account_ratio
                kind: on_demand
                sources: [account]
                inputs: [{name: balance}, {name: age_days, exclusive_minimum: 0}]
                features: [{name: balance_per_day, expression: "balance / age_days"}]
            feature_services:
              - {name: account_risk, features: [account, account_ratio]}
            """;
        var rows = new StringBuilder("account_id,event_timestamp,balance,age_days\n");
        var labels = new StringBuilder("account_id,event_timestamp,risky\n");
        var random = new Random(3);
        for (var i = 0; i < 300; i++)
        {
            var balance = random.Next(100, 10_000);
            var age = random.Next(10, 1000);
            rows.Append(CultureInfo.InvariantCulture, $"{i},2026-01-01T00:00:00Z,{balance},{age}\n");
            labels.Append(CultureInfo.InvariantCulture, $"{i},2026-01-02T00:00:00Z,{(balance / (double)age > 10 ? 1 : 0)}\n");
        }
        using (var csv = await Http.PostAsync("/api/data/datasets/accounts", new StringContent(rows.ToString(), Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.Created, csv.StatusCode);
        }
        async Task<HttpResponseMessage> ApplyAsync(string yaml, bool force) =>
            await Http.PostAsJsonAsync("/api/features/apply", new { files = new[] { new { name = "current.json", content = (await ExportWithoutAsync("account")).ToJsonString() }, new { name = "accounts.yaml", content = yaml } }, force });
        using (var applied = await ApplyAsync(Accounts, force: false))
        {
            Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        }
        await Eventually.ValueAsync(async () =>
        {
            using var response = await Http.PostAsJsonAsync("/api/features/get-online-features", new { entities = new { account_id = new[] { 299 } }, feature_service = "account_risk" });
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, r => r.TryGetProperty("results", out var results) && results[1].GetProperty("statuses")[0].GetString() == "PRESENT", TimeSpan.FromSeconds(30), "accounts read");
        using (var ingested = await Http.PostAsync("/api/data/datasets/account_labels", new StringContent(labels.ToString(), Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.Created, ingested.StatusCode);
        }
        using (var train = await Http.PostAsJsonAsync("/api/training/train", new { dataset = "account_labels", feature_service = "account_risk", label = "risky", model = "account_risk", trees = 20 }))
        {
            Assert.True(train.IsSuccessStatusCode, await train.Content.ReadAsStringAsync());
        }
        async Task<double> PredictAsync()
        {
            var answer = await Eventually.ValueAsync(async () =>
            {
                using var response = await Http.PostAsJsonAsync("/v1/models/account_risk:predict", new { instances = new[] { new { account_id = 7 } } });
                return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
            }, r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "account_risk served");
            return answer.Body.GetProperty("predictions")[0].GetDouble();
        }
        var before = await PredictAsync();

        // The formula changes (forced: the model reads it); the store now serves the new one...
        using (var forced = await ApplyAsync(Accounts.Replace("balance / age_days", "balance * 1000", StringComparison.Ordinal), force: true))
        {
            Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        }
        using var now = await Http.PostAsJsonAsync("/api/features/get-online-features", new { entities = new { account_id = new[] { 7 } }, features = new[] { "account_ratio:balance_per_day", "account:balance" } });
        var current = await now.Content.ReadFromJsonAsync<JsonElement>();
        var names = current.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()).ToList();
        double Current(string feature) => current.GetProperty("results")[names.IndexOf(feature)].GetProperty("values")[0].GetDouble();
        Assert.Equal(Current("balance") * 1000, Current("balance_per_day"), 6);
        // ...and the model still gets its features as trained.
        Assert.Equal(before, await PredictAsync(), 12);
    }

    /// <summary>The applied definitions without what a test re-declares (by name prefix), so re-applying them with the
    /// test's own file is the same repository whatever ran before.</summary>
    private async Task<JsonObject> ExportWithoutAsync(string prefix)
    {
        var export = await ExportAsync();
        foreach (var section in new[] { "entities", "sources", "feature_views", "feature_services" })
        {
            var kept = export[section]!.AsArray().Where(o => !((string)o!["name"]!).StartsWith(prefix, StringComparison.Ordinal)).Select(o => o!.DeepClone()).ToList();
            export[section] = new JsonArray([.. kept]);
        }
        return export;
    }
}
