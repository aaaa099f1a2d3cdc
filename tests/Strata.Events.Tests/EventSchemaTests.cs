using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Json.Schema;
using Strata.Contracts.Data;
using Strata.Contracts.Events;
using Strata.Contracts.Features;
using Strata.Contracts.Serving;
using Strata.Contracts.Training;
using Strata.Samples;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>Event data follows the JSON Schemas in <c>schemas/events/</c>, and published schema versions never change.</summary>
public sealed class EventSchemaTests
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonSchema> Loaded = new(StringComparer.Ordinal);

    /// <summary>Each file parsed once: a schema registers its $id, and the library refuses a second registration.</summary>
    private static JsonSchema Load(string path) => Loaded.GetOrAdd(path, p => JsonSchema.FromText(File.ReadAllText(p)));

    private static string SchemasFolder => Path.Combine(StrataExecutable.RepositoryRoot, "schemas", "events");

    [Fact]
    public void PublishedSchemas_AreUnchanged_AndEveryTopicHasItsCurrentVersion()
    {
        var lockFile = File.ReadAllLines(Path.Combine(SchemasFolder, "published.sha256")).Where(l => l.Length > 0)
            .Select(l => l.Split("  ", 2)).ToDictionary(p => p[1], p => p[0], StringComparer.Ordinal);
        foreach (var (file, hash) in lockFile)
        {
            var actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(SchemasFolder, file))));
            Assert.True(actual == hash, $"{file} was published and has changed: a change consumers of it cannot read is a new version (v2.json)");
        }
        foreach (var (topic, version) in EventSchemas.Versions)
        {
            var file = $"{topic}/v{version}.json";
            Assert.True(lockFile.ContainsKey(file), $"{file} (the current version of {topic}) is not in published.sha256");
            var schema = Load(Path.Combine(SchemasFolder, file));
            Assert.Equal(EventSchemas.UriOf(topic), schema.BaseUri);
        }
    }

    [Fact]
    public async Task EveryEventThePlatformEmits_MatchesTheSchemaItsEnvelopeNames()
    {
        await using var modules = await InProcessModules.StartAsync(serving: true);
        var seen = new Collector();
        var subscriber = modules.Get<IEventSubscriber>();
        var subscriptions = new List<IAsyncDisposable>();
        foreach (var topic in EventTopics.All)
        {
            subscriptions.Add(await subscriber.SubscribeAsync(topic, "schema-check", seen.Handle));
        }
        var publisher = modules.Get<IEventPublisher>();

        // data.ingested, features.computed (via the dataset flow), model.trained, model.registered, model.alias_changed.
        var dataset = await modules.Get<IDataClient>().IngestCsvAsync(SampleDataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(SampleDataset.Csv(800))),
            new CleaningRules(true, [RowFilter.Parse("age > 0")]));
        await modules.Get<IDataClient>().IngestCsvAsync("user_profiles", new MemoryStream("user_id,event_timestamp,age,income\n1,2026-01-01T00:00:00Z,30,50000\n"u8.ToArray()),
            new CleaningRules(false, []));
        var trained = await modules.Get<ITrainingClient>().TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Trees = 5 });
        await Eventually.ValueAsync(() => modules.Get<IServingClient>().GetStatusAsync(), s => s.Version == trained.Version, TimeSpan.FromSeconds(20), "loading");
        // prediction.made (sampled log, rate 1 by default), training.requested, prediction.requested, card.transactions, a dead letter.
        await modules.Get<IServingClient>().PredictAsync(new Dictionary<string, double> { ["age"] = 40, ["income"] = 80000 });
        await publisher.PublishAsync(EventTopics.TrainingRequested, "seed", new TrainingRequestedEvent("r1", new TrainingRequest { DatasetId = dataset.Id, Trees = 5, Alias = null }));
        await publisher.PublishAsync(EventTopics.PredictionRequested, "r2", new PredictionRequestedEvent("r2", new Dictionary<string, double> { ["age"] = 40, ["income"] = 1 }));
        await publisher.PublishAsync(EventTopics.PredictionRequested, "r3", new PredictionRequestedEvent("r3", new Dictionary<string, double>()));
        await publisher.PublishAsync(EventTopics.RequestAudited, "admin", new Strata.Contracts.Security.RequestAuditedEvent("admin", "api-key", "abcdefghij", "DELETE",
            "DELETE /api/security/keys/{id}", "/api/security/keys/abcdefghij", "127.0.0.1", 200, "allowed", "monolith", null));
        await publisher.PublishAsync(EventTopics.CardTransactions, "c1", new { card_id = "c1", event_timestamp = "2026-01-01T00:00:00Z", amount = 12.5, merchant_category = "5411" });
        // model.traffic_changed: a policy with every part (rules, split, sticky key, shadow), then cleared.
        var registry = modules.Get<Strata.Contracts.Registry.IRegistryClient>();
        await registry.SetTrafficPolicyAsync("seed", new Strata.Contracts.Registry.TrafficPolicy
        {
            Rules = [new() { Header = "x-user-group", Exact = "beta", Target = Strata.Contracts.Registry.TrafficTarget.OfAlias("champion") }],
            Split = [new() { Target = Strata.Contracts.Registry.TrafficTarget.OfVersion(trained.Version), Weight = 90 }],
            Sticky = new() { Key = "user_id" },
            Shadow = new() { Target = Strata.Contracts.Registry.TrafficTarget.OfVersion(trained.Version), Percent = 10 },
        });
        await registry.SetTrafficPolicyAsync("seed", null);
        // model.rollout: a second version of the seed model, rolled out then aborted.
        var first = (await registry.GetVersionAsync("seed", trained.Version))!;
        var second = await registry.CreateVersionAsync("seed", new Strata.Contracts.Registry.NewModelVersion(first.ArtifactSha256, first.Format, first.Metrics,
            first.Params, first.DatasetVersion, first.FeatureView, first.FeatureViewVersion, first.FeatureNames));
        var rollouts = modules.Get<Strata.Contracts.Registry.IRolloutsClient>();
        var rollout = await rollouts.StartAsync(new Strata.Contracts.Registry.RolloutSpec { Model = "seed", Candidate = second.Version });
        await rollouts.ControlAsync(rollout.Id, "abort");
        // prediction.feedback (through serving's checks) and prediction.failed (what serving reports for a routed request that failed).
        await modules.Get<IServingClient>().RecordFeedbackAsync([new() { RequestId = "r2", Label = 1 }, new() { RequestId = "r3", Row = 2, Value = 12.5 }]);
        await publisher.PublishAsync(EventTopics.PredictionFailed, "seed/1", new PredictionFailedEvent("seed", "1", "v1", 3, "r4", 400, "age: is required", 0.2,
            DateTimeOffset.UtcNow));
        // model.drift_detected and model.performance_degraded as Monitoring's alerts publish them (MonitoringAlertsTests
        // raises them from planted changes).
        var now = DateTimeOffset.UtcNow;
        await publisher.PublishAsync(EventTopics.ModelDriftDetected, "seed/1", new ModelDriftDetectedEvent("seed", "1", now.AddHours(-1), now, 1200,
            [new DriftedFeature("income", 0.31, 1e-20)], 0.12));
        await publisher.PublishAsync(EventTopics.ModelPerformanceDegraded, "seed/1", new ModelPerformanceDegradedEvent("seed", "1", now.AddHours(-1), now, 250, "auc",
            0.71, 0.93));
        // features.definitions_applied: the applied definitions with one entity more.
        var definitions = modules.Get<Strata.Features.Definitions.FeatureDefinitions>();
        var current = definitions.Current.Definitions;
        await definitions.ApplyAsync(current with { Entities = [.. current.Entities, new Strata.Features.Store.Entity("store", [new("store_id", Strata.Contracts.LogicalType.Int64)])] },
            force: false, "one entity more", CancellationToken.None);

        await Eventually.ValueAsync(() => Task.FromResult(seen.Events.Select(e => e.Topic).ToHashSet()), t => t.SetEquals(EventTopics.All), TimeSpan.FromSeconds(60),
            "an event on every topic");
        foreach (var e in seen.Events)
        {
            Assert.NotNull(e.DataSchema);
            var schema = Load(Path.Combine(StrataExecutable.RepositoryRoot, EventSchemas.RelativePath(e.DataSchema!)));
            var result = schema.Evaluate(e.Data, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{e.Topic} {e.Data}: " + string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null)
                .SelectMany(d => d.Errors!.Select(x => $"{d.InstanceLocation}: {x.Value}"))));
        }
        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }
    }
}
