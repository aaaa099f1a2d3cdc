using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>Retraining moves <c>champion</c> while clients keep predicting (<c>/predict</c> and V2 <c>infer</c>): not one request fails, and every answer
/// comes from a whole model (a version that exists), never a half-loaded one.</summary>
public sealed class HotSwapTests(MonolithFixture fixture) : IClassFixture<MonolithFixture>
{
    [Fact]
    public async Task Predict_DuringTwoSwapsUnderLoad_NoRequestFails()
    {
        var http = fixture.Http;
        var failures = new ConcurrentBag<string>();
        var versions = new ConcurrentDictionary<string, int>();
        var answered = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        // Half the clients use the seed's /predict, half the Open Inference Protocol.
        async Task ClientAsync(int client)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = client % 2 == 0
                        ? await http.PostAsJsonAsync(new Uri("/predict", UriKind.Relative), new { age = 35, income = 50000 }, CancellationToken.None)
                        : await http.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative), new StringContent(
                            """{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}""",
                            System.Text.Encoding.UTF8, "application/json"), CancellationToken.None);
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Add($"{(int)response.StatusCode}: {body}");
                        continue;
                    }
                    versions.AddOrUpdate(body.GetProperty("model_version").GetString()!, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref answered);
                }
                catch (HttpRequestException e)
                {
                    failures.Add(e.Message);
                }
            }
        }

        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(() => ClientAsync(c))).ToList();
        var trainedVersions = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var trained = await http.PostAsync(new Uri("/train", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, trained.StatusCode);
            trainedVersions.Add((await trained.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            var target = trainedVersions[^1];
            while (!versions.ContainsKey(target) && !stop.IsCancellationRequested)
            {
                await Task.Delay(50);
            }
        }
        var beforeStop = answered;
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.True(beforeStop > 100, $"only {beforeStop} requests were answered");
        Assert.Subset(new HashSet<string>(["1", .. trainedVersions]), versions.Keys.ToHashSet());
        Assert.Contains(trainedVersions[^1], versions.Keys);
    }
}
