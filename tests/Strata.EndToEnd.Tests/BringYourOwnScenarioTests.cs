using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>A user's own problem on the real <c>strata up</c>, in each topology: the Wisconsin breast-cancer data that
/// Debian's scikit-learn ships (data nobody here wrote) ingested as a dataset, a YAML feature repository applied with
/// the CLI (a dataset source, a stored view, an on-demand view in the feature language, a feature service), a model
/// trained on the feature service from a label dataset by point-in-time retrieval, registered, served, and asked by
/// patient id alone (V2 infer and V1 predict) for patients it never saw.</summary>
public sealed class BringYourOwnScenarioTests
{
    /// <summary>Where Debian's python3-sklearn puts the file (the version's Python folder varies).</summary>
    private static string? BreastCancerCsv() =>
        new[] { "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv" }
            .Concat(Directory.Exists("/usr/lib/python3") ? Directory.EnumerateFiles("/usr/lib", "breast_cancer.csv", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 7, IgnoreInaccessible = true }) : [])
            .FirstOrDefault(File.Exists);

    [SkippableTheory]
    [InlineData("monolith")]
    [InlineData("microservices")]
    public async Task Up_UsersOwnFeaturesAndModel_TrainedOnAFeatureService_ServedByPatientId(string topology)
    {
        var source = BreastCancerCsv();
        if (source is null && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("breast_cancer.csv not found: apt-get install -y python3-sklearn (CI=true: this test must run)");
        }
        Skip.If(source is null, "breast_cancer.csv not found: apt-get install -y python3-sklearn");
        using var folder = new TempFolder();
        var sample = Path.Combine(StrataExecutable.RepositoryRoot, "samples", "breast-cancer");
        var (prepared, _, prepareErrors) = await Run("python3", Path.Combine(sample, "prepare.py"), source!, folder.Path);
        Assert.True(prepared == 0, prepareErrors);

        await using var up = await StrataUp.StartAsync(topology, Path.Combine(folder.Path, "data"));
        var http = up.Http;
        var url = http.BaseAddress!.ToString();
        await IngestAsync(http, "tumours", Path.Combine(folder.Path, "tumours.csv"));

        // The user's repository: what is applied now (exported) plus their file, applied with the CLI.
        var repository = Directory.CreateDirectory(Path.Combine(folder.Path, "repo")).FullName;
        var export = await StrataExecutable.RunAsync(TimeSpan.FromMinutes(1), up.CliEnvironment, "features", "export", "-u", url, "-o", Path.Combine(repository, "current.json"));
        Assert.True(export.ExitCode == 0, export.Stderr);
        File.Copy(Path.Combine(sample, "features.yaml"), Path.Combine(repository, "features.yaml"));
        var apply = await StrataExecutable.RunAsync(TimeSpan.FromMinutes(1), up.CliEnvironment, "features", "apply", repository, "-u", url, "-m", "breast cancer");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        Assert.Contains("applied version 2", apply.Stdout, StringComparison.Ordinal);

        // The dataset source reads the tumours dataset that existed before the apply.
        await Eventually.ValueAsync(async () =>
        {
            using var response = await http.PostAsJsonAsync("/api/features/get-online-features",
                new { entities = new { patient_id = new[] { 0, 568 } }, feature_service = "diagnosis" });
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }, r => r.TryGetProperty("results", out var results) && results[1].GetProperty("statuses").EnumerateArray().All(s => s.GetString() == "PRESENT"),
            TimeSpan.FromSeconds(60), "the tumours dataset read into the tumour view");

        await IngestAsync(http, "diagnoses", Path.Combine(folder.Path, "diagnoses.csv"));
        using var train = await http.PostAsJsonAsync("/api/training/train", new
        {
            dataset = "diagnoses", feature_service = "diagnosis", label = "malignant", model = "tumour",
            trainer = "fast_forest", trees = 100, seed = 1,
        });
        var trained = await train.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(train.IsSuccessStatusCode, trained.GetRawText());
        var version = trained.GetProperty("version").GetInt32();
        var registered = await http.GetFromJsonAsync<JsonElement>($"/api/registry/models/tumour/versions/{version}");
        var parameters = registered.GetProperty("params");
        Assert.Equal("diagnosis", JsonDocument.Parse(parameters.GetProperty("feature_selection").GetString()!).RootElement.GetProperty("feature_service").GetString());
        Assert.Equal("2", parameters.GetProperty("definitions_version").GetString());
        Assert.Equal(33, registered.GetProperty("feature_names").GetArrayLength());

        // Patients the model never saw, by id alone: V2 infer with an INT64 tensor of ids, V1 predict with instances.
        var test = File.ReadAllLines(Path.Combine(folder.Path, "test.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (Id: long.Parse(p[0], CultureInfo.InvariantCulture), Malignant: p[1] == "1")).ToList();
        var v2 = await Eventually.ValueAsync(async () =>
        {
            using var response = await http.PostAsJsonAsync("/v2/models/tumour/infer", new
            {
                inputs = new[] { new { name = "patient_id", datatype = "INT64", shape = new[] { test.Count }, data = test.Select(t => t.Id).ToArray() } },
            });
            return (response.IsSuccessStatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }, r => r.IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the tumour model served");
        var probabilities = v2.Body.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probability")
            .GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var auc = Auc(probabilities, [.. test.Select(t => t.Malignant)]);
        Assert.True(auc >= 0.95, $"holdout AUC on {test.Count} unseen patients: {auc:F4}");
        Console.WriteLine($"[{topology}] breast cancer: Strata fast_forest AUC {auc.ToString("F4", CultureInfo.InvariantCulture)} on {test.Count} unseen patients");

        using var v1 = await http.PostAsJsonAsync("/v1/models/tumour:predict", new { instances = new[] { new { patient_id = test[0].Id }, new { patient_id = test[1].Id } } });
        var predicted = await v1.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(v1.IsSuccessStatusCode, predicted.GetRawText());
        Assert.Equal(probabilities[0], predicted.GetProperty("predictions")[0].GetDouble(), 9);

        // The same model as an MLflow client would log it elsewhere: Strata's ONNX export of the version, uploaded through
        // the MLflow artifacts service with an MLmodel file into a new run, registered from runs:/, served as ONNX.
        var run = await http.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/runs/get?run_id={trained.GetProperty("run_id").GetString()}");
        var onnxSha = run.GetProperty("run").GetProperty("data").GetProperty("tags").EnumerateArray()
            .Single(t => t.GetProperty("key").GetString() == "strata.onnx_sha256").GetProperty("value").GetString();
        var onnx = await http.GetByteArrayAsync(new Uri($"/api/registry/artifacts/{onnxSha}", UriKind.Relative));
        using var experiment = await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "logged-elsewhere" });
        var experimentId = (await experiment.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("experiment_id").GetString();
        using var created = await http.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experimentId, start_time = 1_700_000_000_000L });
        var info = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("run").GetProperty("info");
        var root = info.GetProperty("artifact_uri").GetString()!["mlflow-artifacts:/".Length..];
        foreach (var (name, bytes) in new[] { ("model.onnx", onnx), ("MLmodel", "flavors:\n  onnx: {data: model.onnx}\n"u8.ToArray()) })
        {
            using var put = await http.PutAsync(new Uri($"/api/2.0/mlflow-artifacts/artifacts/{root}/model/{name}", UriKind.Relative), new ByteArrayContent(bytes));
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        using var logged = await http.PostAsJsonAsync("/api/2.0/mlflow/model-versions/create", new { name = "tumour_onnx", source = $"runs:/{info.GetProperty("run_id").GetString()}/model" });
        var loggedVersion = (await logged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model_version");
        Assert.Equal("READY", loggedVersion.GetProperty("status").GetString());
        using var alias = await http.PostAsJsonAsync("/api/2.0/mlflow/registered-models/alias", new { name = "tumour_onnx", alias = "champion", version = loggedVersion.GetProperty("version").GetString() });
        Assert.True(alias.IsSuccessStatusCode);
        var metadata = await Eventually.ValueAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri("/v2/models/tumour_onnx", UriKind.Relative));
            return (response.IsSuccessStatusCode, Body: await response.Content.ReadFromJsonAsync<JsonElement>());
        }, r => r.IsSuccessStatusCode, TimeSpan.FromSeconds(30), "tumour_onnx served");
        Assert.Equal("onnxruntime_onnx", metadata.Body.GetProperty("platform").GetString());

        // An unknown patient is a 404 naming it.
        using var unknown = await http.PostAsJsonAsync("/v1/models/tumour:predict", new { instances = new[] { new { patient_id = 99_999 } } });
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("patient_id=99999", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task IngestAsync(HttpClient http, string name, string csv)
    {
        using var content = new StringContent(await File.ReadAllTextAsync(csv), Encoding.UTF8, "text/csv");
        using var response = await http.PostAsync(new Uri($"/api/data/datasets/{name}", UriKind.Relative), content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Area under the ROC curve: the chance a random positive scores above a random negative (ties half).</summary>
    private static double Auc(double[] scores, bool[] positive)
    {
        double wins = 0;
        var pairs = 0L;
        for (var i = 0; i < scores.Length; i++)
        {
            for (var j = 0; j < scores.Length; j++)
            {
                if (positive[i] && !positive[j])
                {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }
        return wins / pairs;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(string file, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
