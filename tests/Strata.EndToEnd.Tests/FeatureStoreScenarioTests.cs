using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>The feature store through the gateway of the real <c>strata up</c>, in each topology with identical
/// assertions: push, online reads with a feature service, point-in-time retrieval from a dataset into a dataset (the
/// Features and Data modules talking over HTTP in microservices), the CLI, materialisation, and a restart.</summary>
public sealed class FeatureStoreScenarioTests
{
    private static string Ts(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_PushReadRetrieveMaterializeRestart_SameAnswersInEveryTopology(string topology)
    {
        using var folder = new TempFolder();
        var now = DateTimeOffset.UtcNow;
        await using (var up = await StrataUp.StartAsync(topology, folder.Path))
        {
            var http = up.Http;
            await PostOkAsync(http, "/api/features/push", new
            {
                push_source_name = "card_transactions",
                to = "online_and_offline",
                df = new Dictionary<string, object[]>
                {
                    ["card_id"] = ["c1", "c1", "c2"],
                    ["event_timestamp"] = [Ts(now.AddMinutes(-2)), Ts(now.AddMinutes(-20)), Ts(now.AddMinutes(-1))],
                    ["amount"] = [10.0, 32.5, 7.0],
                    ["merchant_category"] = ["5411", "5812", "5411"],
                },
            });

            var online = await PostOkAsync(http, "/api/features/get-online-features", new
            {
                entities = new { card_id = new[] { "c1", "c2", "c3" } },
                features = new[] { "card_stats:amount_count_10m", "card_stats:amount_sum_1h" },
            });
            Assert.Equal(["card_id", "amount_count_10m", "amount_sum_1h"], online.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(e => e.GetString()));
            var results = online.GetProperty("results");
            Assert.Equal([1, 1, 0], results[1].GetProperty("values").EnumerateArray().Select(v => v.GetInt64()));
            Assert.Equal([42.5, 7.0, 0.0], results[2].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));

            // Offline only, then materialised into the online store.
            await PostOkAsync(http, "/api/features/push", new
            {
                push_source_name = "user_profiles",
                to = "offline",
                df = new Dictionary<string, object[]>
                {
                    ["user_id"] = [1, 2],
                    ["event_timestamp"] = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"],
                    ["age"] = [30.0, 40.0],
                    ["income"] = [60000.0, 50000.0],
                },
            });
            var materialized = await PostOkAsync(http, "/api/features/materialize-incremental", new { end_ts = Ts(now), feature_views = new[] { "user_profile" } });
            Assert.Equal(2, materialized.GetProperty("views")[0].GetProperty("rows").GetInt64());
            var seed = await PostOkAsync(http, "/api/features/get-online-features", new { entities = new { user_id = new[] { 1, 2 } }, feature_service = "seed_model" });
            Assert.Equal([2000.0, 1250.0], seed.GetProperty("results")[4].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));

            // The feature-aware /predict: only the user id; serving gets the features from the feature store.
            var byUser = await PostOkAsync(http, "/predict", new { user_id = 1 });
            var byInputs = await PostOkAsync(http, "/predict", new { age = 30, income = 60000 });
            Assert.Equal(byInputs.GetProperty("prediction").GetDouble(), byUser.GetProperty("prediction").GetDouble());

            // Entity rows as a dataset, the result written as a dataset: Features reads and writes through Data.
            using var csv = new StringContent("user_id,event_timestamp,label\n1,2026-02-01T00:00:00Z,1\n2,2025-02-01T00:00:00Z,0\n", Encoding.UTF8, "text/csv");
            using var ingested = await http.PostAsync(new Uri("/api/data/datasets/labels", UriKind.Relative), csv);
            var entities = await ingested.Content.ReadFromJsonAsync<JsonElement>();
            var historical = await PostOkAsync(http, "/api/features/historical", new
            {
                entity_dataset_id = entities.GetProperty("id").GetString(),
                feature_service = "seed_model",
                output_dataset_name = "training-set",
            });
            var written = historical.GetProperty("dataset");
            Assert.Equal(2, written.GetProperty("rows").GetInt64());
            var columns = await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/data/datasets/{written.GetProperty("id").GetString()}/columns?column=income_per_age", UriKind.Relative));
            var values = columns.GetProperty("columns").GetProperty("income_per_age").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToList();
            Assert.Equal(2000.0, values[0]);
            Assert.True(double.IsNaN(values[1]));

            // The CLI against the same server.
            var entityFile = Path.Combine(folder.Path, "entities.csv");
            await File.WriteAllTextAsync(entityFile, "user_id,event_timestamp\n2,2026-06-01T00:00:00Z\n");
            var (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), up.CliEnvironment, "features", "historical", "--url", up.Http.BaseAddress!.ToString(),
                "--entities", entityFile, "--features", "user_profile:age,seed_features:age_squared", "--json");
            Assert.True(exit == 0, stderr);
            var cli = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(1600.0, cli.GetProperty("data").GetProperty("age_squared")[0].GetDouble());
            Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(30)));
        }

        // Acknowledged online writes survive a restart.
        await using (var up = await StrataUp.StartAsync(topology, folder.Path))
        {
            var online = await PostOkAsync(up.Http, "/api/features/get-online-features", new { entities = new { user_id = new[] { 2 } }, features = new[] { "user_profile:age" } });
            Assert.Equal(40.0, online.GetProperty("results")[1].GetProperty("values")[0].GetDouble());
        }
    }

    private static async Task<JsonElement> PostOkAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
