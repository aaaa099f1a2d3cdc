using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Samples;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>The seed's whole story, run against the real <c>strata up</c> in each topology with identical assertions:
/// seeded champion, ingest, train, register, predict, restart, predict again without retraining.</summary>
public sealed class SeedScenarioTests
{
    [Theory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_IngestTrainRegisterPredictRestart_ServesSameVersionWithoutRetraining(string topology)
    {
        using var folder = new TempFolder();
        double predictionBeforeRestart;
        string datasetId;
        await using (var up = await StrataUp.StartAsync(topology, folder.Path))
        {
            // The address the client commands default to without --url (issue 24).
            Assert.Equal(up.Http.BaseAddress!.ToString(), File.ReadAllText(Path.Combine(folder.Path, "address")));
            var http = up.Http;

            // 1. Seeded on first start: champion v1 answers at once.
            Assert.Contains("seeded seed v1 (champion)", up.Output, StringComparison.Ordinal);
            var seeded = await PredictAsync(http, 35, 50000);
            Assert.Equal("1", seeded.GetProperty("model_version").GetString());
            Assert.InRange(seeded.GetProperty("prediction").GetDouble(), 0, 1);

            // 2. Ingest a new dataset version with the seed's cleaning.
            using var csv = new StringContent(SampleDataset.Csv(6000, seed: 7), Encoding.UTF8, "text/csv");
            using var ingested = await http.PostAsync(new Uri("/api/data/datasets/seed?drop_missing=true&filter=age%3E0", UriKind.Relative), csv);
            Assert.Equal(HttpStatusCode.Created, ingested.StatusCode);
            var dataset = await ingested.Content.ReadFromJsonAsync<JsonElement>();
            datasetId = dataset.GetProperty("id").GetString()!;
            using var again = new StringContent(SampleDataset.Csv(6000, seed: 7), Encoding.UTF8, "text/csv");
            using var reingested = await http.PostAsync(new Uri("/api/data/datasets/seed?drop_missing=true&filter=age%3E0", UriKind.Relative), again);
            Assert.Equal(HttpStatusCode.OK, reingested.StatusCode);
            Assert.Equal(datasetId, (await reingested.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
            Assert.Equal(6000, dataset.GetProperty("source_rows").GetInt64());
            var dropped = dataset.GetProperty("dropped").EnumerateArray().ToDictionary(d => d.GetProperty("rule").GetString()!, d => d.GetProperty("rows").GetInt64());
            Assert.Equal(12, dropped["missing_values"]);   // every 500th row of 6000
            Assert.Equal(7, dropped["age > 0"]);           // every 777th row not already dropped
            Assert.Equal(6000 - 12 - 7, dataset.GetProperty("rows").GetInt64());

            // 3. The seed's /train: newest dataset, new version, champion moves.
            using var trained = await http.PostAsync(new Uri("/train", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, trained.StatusCode);
            var training = await trained.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(2, training.GetProperty("version").GetInt32());
            Assert.Equal(datasetId, training.GetProperty("dataset_id").GetString());
            Assert.InRange(training.GetProperty("metrics").GetProperty("auc").GetDouble(), 0.85, 1);

            // 4. Serving picks up the new champion.
            var after = await Eventually.ValueAsync(() => PredictAsync(http, 35, 50000),
                p => p.GetProperty("model_version").GetString() == "2", TimeSpan.FromSeconds(30), "serving v2");
            predictionBeforeRestart = after.GetProperty("prediction").GetDouble();

            // 5. The registry holds both versions with lineage.
            var champion = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/registry/models/seed/aliases/champion", UriKind.Relative));
            Assert.Equal(2, champion.GetProperty("version").GetInt32());
            Assert.Equal(datasetId, champion.GetProperty("dataset_version").GetString());
            Assert.Equal("seed_features", champion.GetProperty("feature_view").GetString());

            // 6. Bad input through the front door.
            using var bad = await http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age = -1, income = 5 });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("age", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

            // 7. The KServe protocols answer through the front door with the same model.
            using var infer = await http.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative), new StringContent(
                """{"id": "e2e", "inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}""",
                Encoding.UTF8, "application/json"));
            var inferred = await infer.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(("e2e", "2"), (inferred.GetProperty("id").GetString(), inferred.GetProperty("model_version").GetString()));
            Assert.Equal(predictionBeforeRestart, inferred.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble());
            using var v1 = await http.PostAsJsonAsync(new Uri("/v1/models/seed:predict", UriKind.Relative), new { instances = new[] { new[] { 35.0, 50000 } } });
            Assert.Equal(predictionBeforeRestart, (await v1.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions")[0].GetDouble());

            // 8. Every module's OpenAPI document through the front door.
            foreach (var module in new[] { "data", "features", "registry", "training", "serving" })
            {
                using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/openapi/{module}.json", UriKind.Relative)));
                Assert.Equal($"strata | {module}", document.RootElement.GetProperty("info").GetProperty("title").GetString());
                Assert.NotEmpty(document.RootElement.GetProperty("paths").EnumerateObject());
            }

            Assert.Equal(0, await up.StopAsync(TimeSpan.FromSeconds(30)));
            Assert.Empty(LocalProcesses.WithArgument(folder.Path));
        }

        // 9. Restart on the same data: same version, same answer, nothing retrained.
        await using (var again = await StrataUp.StartAsync(topology, folder.Path))
        {
            var restarted = await PredictAsync(again.Http, 35, 50000);
            Assert.Equal("2", restarted.GetProperty("model_version").GetString());
            Assert.Equal(predictionBeforeRestart, restarted.GetProperty("prediction").GetDouble());
            var versions = await again.Http.GetFromJsonAsync<JsonElement>(new Uri("/api/registry/models/seed/versions", UriKind.Relative));
            Assert.Equal(2, versions.GetArrayLength());
            Assert.DoesNotContain("seeded", again.Output, StringComparison.Ordinal);
        }
    }

    private static async Task<JsonElement> PredictAsync(HttpClient http, double age, double income)
    {
        using var response = await http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age, income });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return response.StatusCode == HttpStatusCode.OK
            ? body
            : throw new InvalidOperationException($"/predict answered {(int)response.StatusCode}: {body}");
    }
}
