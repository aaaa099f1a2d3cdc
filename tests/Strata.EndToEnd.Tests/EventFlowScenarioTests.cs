using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Contracts.Events;
using Strata.Contracts.Training;
using Strata.Events;
using Strata.Events.Http;
using Strata.Events.Inbox;
using Strata.Events.Nats;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>The seed's event-driven flows through the bus of a real <c>strata up</c> (the embedded log, reached by this
/// test over the Events API through the front door), with identical assertions in each topology:
/// <c>data.ingested</c> → features → <c>features.computed</c>; <c>training.requested</c> → training → <c>model.trained</c>
/// → registry → serving hot-reloads; <c>prediction.requested</c> → serving → <c>prediction.made</c>; the audit log, and a
/// dead letter re-driven.</summary>
public sealed class EventFlowScenarioTests
{
    /// <param name="backend">embedded (the log kept by the events module; this test reaches it through the front door)
    /// or nats (a real nats-server every process connects to, as a scale-out deployment would).</param>
    [SkippableTheory]
    [InlineData("monolith", "embedded")]
    [InlineData("microservices", "embedded")]
    [InlineData("microservices", "nats")]
    public async Task Up_SeedEventFlows_RunThroughTheBusInEveryTopology(string topology, string backend)
    {
        using var folder = new TempFolder();
        await using var nats = backend == "nats" ? await NatsServer.StartAsync() : null;
        Skip.If(backend == "nats" && nats is null, NatsServer.InstallHint);
        var environment = nats is null ? null : new Dictionary<string, string>
        {
            ["Strata__Events__Backend"] = "nats",
            ["Strata__Events__Nats"] = nats.Url,
        };
        await using var up = await StrataUp.StartAsync(topology, folder.Path, environment: environment);
        var http = up.Http;
        using var inbox = new SqliteInbox(Path.Combine(folder.Path, "test-inbox.db"), TimeProvider.System, TimeSpan.FromDays(1));
        await using var bus = new EventBus(nats is null ? new HttpEventTransport(TestKeys.Authorize(new HttpClient { BaseAddress = http.BaseAddress }, TestKeys.ServiceToken(folder.Path)))
                : new NatsJetStreamTransport(nats.Url, "strata", TimeSpan.FromDays(7), TimeSpan.FromMinutes(2)),
            new CloudEventCodec(TimeProvider.System, "/e2e"), inbox, NullLogger<EventBus>.Instance);
        var computed = new Collector();
        var trained = new Collector();
        var made = new Collector();
        await bus.SubscribeAsync(EventTopics.FeaturesComputed, "e2e", computed.Handle);
        await bus.SubscribeAsync(EventTopics.ModelTrained, "e2e", trained.Handle);
        await bus.SubscribeAsync(EventTopics.PredictionMade, "e2e", made.Handle);

        // 1. data.ingested -> features: a dataset named like a push source lands in the feature store.
        var csv = "user_id,event_timestamp,age,income\n501,2026-01-01T00:00:00Z,33,71000\n502,2026-01-02T00:00:00Z,48,39000\n";
        using (var ingested = await http.PostAsync(new Uri("/api/data/datasets/user_profiles", UriKind.Relative), new StringContent(csv, Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.Created, ingested.StatusCode);
        }
        var features = (await computed.WaitForAsync(1, TimeSpan.FromSeconds(60))).Single().DataAs<FeaturesComputedEvent>()!;
        Assert.Equal(("user_profiles", 2), (features.Source, features.Rows));
        var online = await PostJsonAsync(http, "/api/features/get-online-features", new { entities = new { user_id = new[] { 501, 502 } }, features = new[] { "user_profile:age" } });
        Assert.Equal([33.0, 48.0], online.GetProperty("results")[1].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));

        // 2. training.requested -> training -> model.trained -> registry -> serving swaps to the new version.
        var before = await PostJsonAsync(http, "/predict", new { age = 35, income = 50000 });
        Assert.Equal("1", before.GetProperty("model_version").GetString());
        await bus.PublishAsync(EventTopics.TrainingRequested, "seed", new TrainingRequestedEvent("train-1", new TrainingRequest { Trees = 20, Seed = 7 }));
        var trainedEvent = (await trained.WaitForAsync(1, TimeSpan.FromSeconds(120))).Single();
        var model = trainedEvent.DataAs<ModelTrainedEvent>()!;
        Assert.Equal(("seed", 2, "champion", "train-1"), (model.Model, model.Version, model.Alias, model.RequestId));
        var after = await Eventually.ValueAsync(() => PostJsonAsync(http, "/predict", new { age = 35, income = 50000 }),
            p => p.GetProperty("model_version").GetString() == "2", TimeSpan.FromSeconds(30), "serving v2");
        // The same request handled again (a replay to the training group bypasses the inbox, as a redelivery after a
        // crash before the inbox record would): it trains again, but registers nothing new.
        using (var replay = await http.PostAsJsonAsync(new Uri("/api/events/replay", UriKind.Relative),
            new { topic = EventTopics.TrainingRequested, group = "training", from = DateTimeOffset.UtcNow.AddMinutes(-10) }))
        {
            Assert.True(replay.IsSuccessStatusCode, await replay.Content.ReadAsStringAsync());
        }
        var retrained = (await trained.WaitForAsync(2, TimeSpan.FromSeconds(120)))[1].DataAs<ModelTrainedEvent>()!;
        Assert.Equal(("seed", 2, "train-1"), (retrained.Model, retrained.Version, retrained.RequestId));
        Assert.Equal(2, (await GetJsonAsync(http, "/api/registry/models/seed/versions")).GetArrayLength());

        // 3. prediction.requested -> serving -> prediction.made, the same answer /predict gives.
        await bus.PublishAsync(EventTopics.PredictionRequested, "req-1", new PredictionRequestedEvent("req-1", new Dictionary<string, double> { ["age"] = 35, ["income"] = 50000 }));
        var answer = (await Eventually.ValueAsync(() => Task.FromResult(made.Events.Select(e => e.DataAs<PredictionMadeEvent>()!).FirstOrDefault(p => p.RequestId == "req-1")),
            p => p is not null, TimeSpan.FromSeconds(30), "prediction.made for req-1"))!;
        Assert.Equal(("2", after.GetProperty("prediction").GetDouble()), (answer.ModelVersion, answer.Prediction));

        // 4. A request serving cannot answer ends in the dead letters, is listed, and can be re-driven once.
        await bus.PublishAsync(EventTopics.PredictionRequested, "req-bad", new PredictionRequestedEvent("req-bad", new Dictionary<string, double> { ["age"] = 35 }));
        var letters = await Eventually.ValueAsync(() => GetJsonAsync(http, "/api/events/dead-letters?group=serving-predictions"),
            l => l.GetArrayLength() == 1, TimeSpan.FromSeconds(30), "a dead letter");
        var letter = letters[0];
        Assert.Contains("income", letter.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(EventTopics.PredictionRequested, letter.GetProperty("topic").GetString());
        var id = letter.GetProperty("id").GetString();
        using (var redrive = await http.PostAsync(new Uri($"/api/events/dead-letters/{id}/redrive", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, redrive.StatusCode);
        }
        using (var again = await http.PostAsync(new Uri($"/api/events/dead-letters/{id}/redrive", UriKind.Relative), null))
        {
            Assert.True(again.StatusCode == HttpStatusCode.Conflict, $"{(int)again.StatusCode} {await again.Content.ReadAsStringAsync()}");
        }

        // The CLI sees the same: the dead letter (now re-driven), the latest events, each group's lag.
        var url = http.BaseAddress!.ToString();
        var (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), up.CliEnvironment, "events", "dlq", "ls", "--url", url, "--group", "serving-predictions", "--json");
        Assert.True(exit == 0, stderr);
        var listed = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(("redriven", id), (listed[0].GetProperty("status").GetString(), listed[0].GetProperty("id").GetString()));
        (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), up.CliEnvironment, "events", "tail", "--url", url, "-n", "3", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        (exit, stdout, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), up.CliEnvironment, "events", "consumers", "--url", url, "--topic", EventTopics.PredictionRequested, "--json");
        Assert.True(exit == 0, stderr);
        Assert.Contains(JsonDocument.Parse(stdout).RootElement.EnumerateArray(), g => g.GetProperty("group").GetString() == "serving-predictions");
        (exit, _, stderr) = await StrataExecutable.RunAsync(TimeSpan.FromSeconds(60), up.CliEnvironment, "events", "replay", "--url", url, "--topic", "data.ingested", "--group", "x",
            "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z");
        Assert.Equal(1, exit);
        Assert.Contains("to", stderr, StringComparison.Ordinal);

        // 5. The audit log has every flow's events, queryable by topic and subject.
        var audit = await Eventually.ValueAsync(() => GetJsonAsync(http, "/api/events?topic=model.trained&subject=seed/2"),
            a => a.GetProperty("events").GetArrayLength() == 2, TimeSpan.FromSeconds(20), "both model.trained events in the audit log");
        Assert.Equal("seed/2", audit.GetProperty("events")[0].GetProperty("subject").GetString());
        // The trace continues across the bus: the request, the training it caused and the model it announced share it.
        var traceId = trainedEvent.TraceParent![3..35];
        var trace = await GetJsonAsync(http, $"/api/events?trace_id={traceId}");
        Assert.Equal([EventTopics.ModelTrained, EventTopics.TrainingRequested], trace.GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("topic").GetString()).Where(t => t is EventTopics.TrainingRequested or EventTopics.ModelTrained).Distinct().Order());
        var ingestedEvents = await GetJsonAsync(http, "/api/events?topic=data.ingested");
        Assert.Contains(ingestedEvents.GetProperty("events").EnumerateArray(), e => e.GetProperty("data").GetProperty("name").GetString() == "user_profiles");
        var registered = await GetJsonAsync(http, "/api/events?topic=model.registered&subject=seed/2");
        Assert.Equal(1, registered.GetProperty("events").GetArrayLength());
    }

    private static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
