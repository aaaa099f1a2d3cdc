using System.Text;
using System.Threading.Channels;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Serving;
using Strata.Contracts.Training;
using Strata.Samples;
using Strata.Testing;

namespace Strata.Serving.Tests;

public sealed class PredictionLogTests
{
    private static async Task<InProcessModules> ServingWithModelAsync(Dictionary<string, string?> configuration)
    {
        // Every prediction logged unless the test says otherwise (the default samples one in ten).
        configuration.TryAdd("Strata:Serving:PredictionLogSampleRate", "1");
        var modules = await InProcessModules.StartAsync(serving: true, configuration);
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(2000))),
            new CleaningRules(true, [RowFilter.Parse("age > 0")]));
        var trained = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 5 });
        await Eventually.ValueAsync(() => modules.Get<IServingClient>().GetStatusAsync(), s => s.Version == trained.Version, TimeSpan.FromSeconds(20), "loading");
        return modules;
    }

    private static Dictionary<string, double> Row(double age, double income) => new() { ["age"] = age, ["income"] = income };

    [Fact]
    public async Task Predict_Logged_PublishesPredictionMadeWithInputsFeaturesAndVersion()
    {
        await using var modules = await ServingWithModelAsync([]);
        var received = Channel.CreateUnbounded<ReceivedEvent>();
        await using var subscription = await modules.Get<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "test-audit", (e, ct) => received.Writer.WriteAsync(e, ct).AsTask());

        var answer = await modules.Get<IServingClient>().PredictAsync(Row(40, 80000));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var logged = (await received.Reader.ReadAsync(timeout.Token)).DataAs<PredictionMadeEvent>()!;
        Assert.Equal(("seed", answer.ModelVersion, answer.Prediction), (logged.Model, logged.ModelVersion, logged.Prediction));
        Assert.Equal(Row(40, 80000), logged.Inputs);
        Assert.Equal(1600, logged.Features["age_squared"]);
        Assert.Equal(2000, logged.Features["income_per_age"]);
        Assert.True(logged.LatencyMs >= 0);
    }

    [Fact]
    public async Task Predict_WithinTheLinger_ArePublishedAsOneBatch()
    {
        await using var modules = await ServingWithModelAsync(new() { ["Strata:Serving:PredictionLogLinger"] = "00:00:01" });
        var received = Channel.CreateUnbounded<ReceivedEvent>();
        await using var subscription = await modules.Get<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "test-audit", (e, ct) => received.Writer.WriteAsync(e, ct).AsTask());
        var log = modules.Get<PredictionLog>();
        var before = (log.Published, log.Batches);

        for (var i = 0; i < 20; i++)
        {
            // Apart enough that each would be published alone without the linger.
            await modules.Get<IServingClient>().PredictAsync(Row(30 + i, 50000));
            await Task.Delay(10);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ages = new List<double>();
        while (ages.Count < 20)
        {
            ages.Add((await received.Reader.ReadAsync(timeout.Token)).DataAs<PredictionMadeEvent>()!.Inputs["age"]);
        }
        Assert.Equal(Enumerable.Range(30, 20).Select(a => (double)a), ages.Order());
        Assert.Equal(20, log.Published - before.Published);
        Assert.InRange(log.Batches - before.Batches, 1, 2); // 20 predictions within the linger: one append (two if one straddled)
    }

    [Fact]
    public async Task Predict_SampleRateZero_LogsNothing()
    {
        await using var modules = await ServingWithModelAsync(new() { ["Strata:Serving:PredictionLogSampleRate"] = "0" });
        await using var subscription = await modules.Get<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "test-audit", (_, _) => Task.CompletedTask);
        for (var i = 0; i < 50; i++)
        {
            await modules.Get<IServingClient>().PredictAsync(Row(30 + i, 50000));
        }
        await Task.Delay(200);
        Assert.Equal(0, modules.Get<PredictionLog>().Published);
    }

    [Fact]
    public async Task Predict_LogBackedUp_DropsRecordsAndNeverWaits()
    {
        await using var modules = await ServingWithModelAsync(new() { ["Strata:Serving:PredictionLogCapacity"] = "1" });
        using var stuck = new SemaphoreSlim(0);
        await using var subscription = await modules.Get<IEventSubscriber>().SubscribeAsync(EventTopics.PredictionMade, "slow-audit", (_, ct) => stuck.WaitAsync(ct));
        var serving = modules.Get<IServingClient>();

        var answers = await Task.Run(async () =>
        {
            var list = new List<PredictionResult>();
            for (var i = 0; i < 3000; i++)
            {
                list.Add(await serving.PredictAsync(Row(20 + (i % 50), 60000)));
            }
            return list;
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3000, answers.Count);
        Assert.True(modules.Get<PredictionLog>().Dropped > 0, "a log that cannot keep up must drop, not block");
    }
}
