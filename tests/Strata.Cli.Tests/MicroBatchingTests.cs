using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Serving;
using Strata.Serving.Models;

namespace Strata.Cli.Tests;

/// <summary>Micro-batching on the seed model (at most 8 rows, 25 ms): concurrent single-row requests are scored
/// together, a batch never holds more than 8 rows, no request waits for company longer than the latency bound, and every
/// answer is the one the model gives the row alone. Timing bounds get slack for a CI machine whose 2 cores run other
/// test processes at once (a woken thread can wait its turn for tens of milliseconds); what they must catch is a batcher
/// that holds requests for company, which never answers a lone request at all.</summary>
[Collection(TimingTests.Name)]
public sealed class MicroBatchingTests(BatchingFixture fixture) : IClassFixture<BatchingFixture>
{
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(750);

    private static string Infer(params (double Age, double Income)[] rows) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"inputs": [{"name": "age", "shape": [{{rows.Length}}], "datatype": "FP64", "data": [{{string.Join(", ", rows.Select(r => r.Age))}}]}, {"name": "income", "shape": [{{rows.Length}}], "datatype": "FP64", "data": [{{string.Join(", ", rows.Select(r => r.Income))}}]}]}""");

    private async Task<double[]> ScoresAsync(string json)
    {
        // A request held for company would never come back: 10 s is far beyond any bound and any scheduling delay.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await fixture.Http.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), timeout.Token);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.GetRawText());
        return [.. body.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(d => d.GetDouble())];
    }

    private MicroBatcher Batcher()
    {
        var model = fixture.Get<ModelHost>().Current!;
        return fixture.Get<ServingService>().BatcherFor(model) ?? throw new InvalidOperationException("batching is off");
    }

    [Fact]
    public async Task ConcurrentRequests_AreBatched_WithinBothBounds_AndAnsweredAsAlone()
    {
        var model = (MlNetModel)fixture.Get<ModelHost>().Current!;
        var batcher = Batcher();
        var before = (batcher.Batches, batcher.Requests);
        var wrong = new ConcurrentBag<string>();

        // 24 clients, 15 requests each, of 1 to 5 rows: batches form from rows of different requests.
        await Task.WhenAll(Enumerable.Range(0, 24).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                var rows = Enumerable.Range(0, 1 + ((c + i) % 5)).Select(k => (Age: 20.0 + ((c * 7 + i + k) % 50), Income: 10_000.0 + (c * 1000) + (i * 37) + k)).ToArray();
                var scores = await ScoresAsync(Infer(rows));
                for (var k = 0; k < rows.Length; k++)
                {
                    var alone = model.Score(model.Features.Compute([rows[k].Age, rows[k].Income]));
                    if (Math.Abs(alone - scores[k]) > 1e-12)
                    {
                        wrong.Add($"client {c} request {i} row {k}: {scores[k]} batched, {alone} alone");
                    }
                }
            }
        })));

        Assert.Empty(wrong);
        var batches = batcher.Batches - before.Batches;
        var requests = batcher.Requests - before.Requests;
        Assert.Equal(24 * 15, requests);
        Assert.True(batches < requests * 0.8, $"{requests} requests went out in {batches} batches: hardly any were scored together");
        Assert.InRange(batcher.LargestBatch, 2, BatchingFixture.MaxBatchSize);
        // Beyond the latency bound only scheduling delay on a busy 2-core machine is tolerated.
        Assert.True(batcher.MaxQueueWait <= BatchingFixture.MaxLatency + Slack,
            $"a request waited {batcher.MaxQueueWait.TotalMilliseconds:F1} ms for its batch (bound {BatchingFixture.MaxLatency.TotalMilliseconds} ms)");
    }

    [Fact]
    public async Task ALoneRequest_IsDispatchedByTheLatencyBound_NotHeldForCompany()
    {
        await ScoresAsync(Infer((35, 50000)));
        var times = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await ScoresAsync(Infer((35, 50000 + i)));
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        // Alone, a request waits out the bound (nobody joins) and then is scored: about 25 ms on an idle machine.
        Assert.True(times[5] >= BatchingFixture.MaxLatency.TotalMilliseconds * 0.8, $"median {times[5]:F1} ms: the request did not wait for company");
        Assert.True(times[5] <= (BatchingFixture.MaxLatency + Slack).TotalMilliseconds, $"median {times[5]:F1} ms: held far beyond the 25 ms bound");
    }

    [Fact]
    public async Task ARequestOfTheBatchSizeOrMore_IsScoredOnItsOwn_AndABadRowFailsOnlyItsRequest()
    {
        var rows = Enumerable.Range(0, 12).Select(i => (Age: 30.0 + i, Income: 40_000.0 + i)).ToArray();
        var largestBefore = Batcher().LargestBatch;
        Assert.Equal(12, (await ScoresAsync(Infer(rows))).Length);
        Assert.Equal(largestBefore, Batcher().LargestBatch);

        // A request with an invalid row (age must be > 0) sent among good ones: only it is refused.
        var good = Enumerable.Range(0, 6).Select(i => ScoresAsync(Infer((40 + i, 60_000)))).ToList();
        using var bad = await fixture.Http.PostAsync(new Uri("/v2/models/seed/infer", UriKind.Relative),
            new StringContent(Infer((0, 60_000)), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("input 'age' must be > 0", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.All(await Task.WhenAll(good), s => Assert.Single(s));
    }

    [Fact]
    public async Task OnnxGraph_IsBatchedToo_OneRunPerBatch_AndAnswersAsAlone()
    {
        await fixture.RegisterSeedAsOnnxAsync(BatchingFixture.OnnxModel);
        var host = fixture.Get<ModelHost>();
        var onnx = host.Get(BatchingFixture.OnnxModel, "champion")!;
        var seed = (MlNetModel)host.Current!;
        var batcher = fixture.Get<ServingService>().BatcherFor(onnx) ?? throw new InvalidOperationException("the ONNX model is not batched");
        var before = (batcher.Batches, batcher.Requests);
        var wrong = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var features = seed.Features.Compute([20.0 + c + i, 20_000.0 + (c * 997) + (i * 31)]).Select(v => (float)v).ToArray();
                var json = string.Create(CultureInfo.InvariantCulture,
                    $$"""{"inputs": [{"name": "Features", "shape": [1, {{features.Length}}], "datatype": "FP32", "data": [{{string.Join(", ", features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}}]}], "outputs": [{"name": "Probability.output"}]}""");
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await fixture.Http.PostAsync(new Uri($"/v2/models/{BatchingFixture.OnnxModel}/infer", UriKind.Relative),
                    new StringContent(json, Encoding.UTF8, "application/json"), timeout.Token);
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    wrong.Add(body.GetRawText());
                    continue;
                }
                var batched = body.GetProperty("outputs")[0].GetProperty("data")[0].GetDouble();
                var alone = (float[])onnx.Infer([new Tensor("Features", "FP32", [1, features.Length], features)], ["Probability.output"])[0].Data;
                if (Math.Abs(batched - alone[0]) > 1e-6)
                {
                    wrong.Add($"client {c} request {i}: {batched} batched, {alone[0]} alone");
                }
            }
        })));

        Assert.Empty(wrong);
        Assert.Equal(160, batcher.Requests - before.Requests);
        Assert.True(batcher.Batches - before.Batches < 160 * 0.8, $"160 requests in {batcher.Batches - before.Batches} batches: hardly any scored together");
        Assert.InRange(batcher.LargestBatch, 2, BatchingFixture.MaxBatchSize);
    }
}
